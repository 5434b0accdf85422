-- The tasks table of the original (Alembic-managed) system. Every statement is
-- conditional, so an existing database of the original system is adopted in place.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'taskstatus') THEN
        CREATE TYPE taskstatus AS ENUM ('todo', 'in_progress', 'done');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'taskpriority') THEN
        CREATE TYPE taskpriority AS ENUM ('low', 'medium', 'high');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS tasks (
    id           SERIAL PRIMARY KEY,
    title        VARCHAR(255) NOT NULL,
    description  TEXT,
    status       taskstatus NOT NULL DEFAULT 'todo',
    priority     taskpriority NOT NULL DEFAULT 'medium',
    is_completed BOOLEAN NOT NULL DEFAULT FALSE,
    due_date     TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ,
    -- No foreign key: the users live in another service's database.
    owner_id     INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_tasks_id ON tasks (id);
CREATE INDEX IF NOT EXISTS ix_tasks_owner_id ON tasks (owner_id);
-- Serves the newest-first pages of one owner.
CREATE INDEX IF NOT EXISTS ix_tasks_owner_newest ON tasks (owner_id, created_at DESC, id DESC);
