-- E-mail addresses are unique on their normalised form (domain lower-cased, as
-- pydantic's EmailStr stored them); see the PostgreSQL migration of the same
-- name. Only rows that collide with no other are normalised; colliding rows are
-- left as written and reported at every start, never merged.
-- rtrim(email, <email without '@'>) is the address up to its last '@'.
UPDATE users
SET email = rtrim(email, replace(email, '@', '')) || lower(substr(email, length(rtrim(email, replace(email, '@', ''))) + 1))
WHERE instr(email, '@') > 0
  AND email <> rtrim(email, replace(email, '@', '')) || lower(substr(email, length(rtrim(email, replace(email, '@', ''))) + 1))
  AND NOT EXISTS (
      SELECT 1 FROM users other
      WHERE other.id <> users.id
        AND rtrim(other.email, replace(other.email, '@', '')) || lower(substr(other.email, length(rtrim(other.email, replace(other.email, '@', ''))) + 1))
          = rtrim(users.email, replace(users.email, '@', '')) || lower(substr(users.email, length(rtrim(users.email, replace(users.email, '@', ''))) + 1))
  );

CREATE INDEX IF NOT EXISTS ix_users_email_normalised
    ON users (rtrim(email, replace(email, '@', '')) || lower(substr(email, length(rtrim(email, replace(email, '@', ''))) + 1)));
