-- E-mail addresses are unique on their normalised form: the domain lower-cased,
-- as pydantic's EmailStr (email-validator) stored them. Rows written before
-- that rule (`d@EXAMPLE.COM`) are normalised here, but only where no other row
-- normalises to the same address: accounts that would collide are never merged
-- or changed. They are left as written and the users service logs them at every
-- start (see `Store::email_collisions`) until an operator resolves them.
-- The expression is the one `common::email::sql_domain_lowered` writes.
UPDATE users
SET email = substring(email from '^(.*@)') || lower(substring(email from '@([^@]*)$'))
WHERE email <> substring(email from '^(.*@)') || lower(substring(email from '@([^@]*)$'))
  AND NOT EXISTS (
      SELECT 1 FROM users other
      WHERE other.id <> users.id
        AND substring(other.email from '^(.*@)') || lower(substring(other.email from '@([^@]*)$'))
          = substring(users.email from '^(.*@)') || lower(substring(users.email from '@([^@]*)$'))
  );

-- Registration looks a new address up by this expression, so a colliding row
-- left above still blocks a third account for the same mailbox.
CREATE INDEX IF NOT EXISTS ix_users_email_normalised
    ON users ((substring(email from '^(.*@)') || lower(substring(email from '@([^@]*)$'))));
