-- The tasks read table: one row per live task, the fold of its events.
-- Written only by the projector (inline with each append, or by rebuild).
CREATE TABLE IF NOT EXISTS tasks (
    user_id     text        NOT NULL,
    id          uuid        NOT NULL,
    title       text        NOT NULL,
    description text,
    completed   boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     integer     NOT NULL,
    PRIMARY KEY (user_id, id)
);

-- The list query: a user's tasks newest first, ties broken by id, paged by keyset.
CREATE INDEX IF NOT EXISTS tasks_user_created_idx
    ON tasks (user_id, created_at DESC, id DESC);
