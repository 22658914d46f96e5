-- The event log: the source of truth. Append-only; everything else is derived from it.
--
-- position: the global order. Appends take a global lock held until commit
-- (see functions/append_task_events.sql), so positions become visible in commit
-- order and a reader paging by position never skips an event.
-- (user_id, stream_id, version) is unique: a concurrent writer with the same
-- expected version fails instead of overwriting. Keys lead with user_id so the
-- log can be distributed by user.
--
-- Rewritten when functions moved to sql/functions/ (only this comment changed):
-- replaces: 240feb203170d7be3b7e1b747a5059edf07198901740e8464d5199c57311e079
CREATE TABLE IF NOT EXISTS events (
    position    bigint      GENERATED ALWAYS AS IDENTITY,
    user_id     text        NOT NULL,
    stream_id   uuid        NOT NULL,
    version     integer     NOT NULL CHECK (version > 0),
    type        text        NOT NULL,
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, stream_id, version)
);

CREATE UNIQUE INDEX IF NOT EXISTS events_position_idx
    ON events (position);

CREATE INDEX IF NOT EXISTS events_user_position_idx
    ON events (user_id, position);
