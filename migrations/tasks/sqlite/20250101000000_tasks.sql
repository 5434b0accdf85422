-- The tasks table on the embedded store. Enums are stored as their lower-case
-- labels, timestamps as RFC 3339 text (sqlx's encoding), booleans as 0/1.

CREATE TABLE IF NOT EXISTS tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        VARCHAR(255) NOT NULL,
    description  TEXT,
    status       TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
    priority     TEXT NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high')),
    is_completed BOOLEAN NOT NULL DEFAULT FALSE,
    due_date     DATETIME,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME,
    owner_id     INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_tasks_owner_newest ON tasks (owner_id, created_at DESC, id DESC);
