-- The append path's alternatives, side by side in one database (after `tasks migrate`), for
-- bench/sequencer/run.sh. old_append is the path before issue 11: positions taken at insert,
-- made safe by one global lock held to commit, plus the NOTIFY every append sent.
DROP TABLE IF EXISTS old_events, old_tasks;

CREATE TABLE old_events (
    position    bigint      GENERATED ALWAYS AS IDENTITY,
    user_id     text        NOT NULL,
    stream_id   uuid        NOT NULL,
    version     integer     NOT NULL,
    type        text        NOT NULL,
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, stream_id, version)
);

CREATE UNIQUE INDEX ON old_events (position);
CREATE INDEX ON old_events (user_id, position);

CREATE TABLE old_tasks (LIKE tasks INCLUDING ALL);

CREATE OR REPLACE FUNCTION old_append(p_user text, p_lock boolean, p_notify boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    id uuid := gen_random_uuid();
BEGIN
    INSERT INTO old_tasks (user_id, id, title, description, completed, created_at, updated_at, version)
    VALUES (p_user, id, 'bench task', 'created by pgbench', false, now(), now(), 1);
    IF p_lock THEN
        PERFORM pg_advisory_xact_lock(1952539499);  -- the old append key
    END IF;
    INSERT INTO old_events (user_id, stream_id, version, type, data, metadata, recorded_at)
    VALUES (p_user, id, 1, 'TaskCreated',
            '{"title": "bench task", "description": "created by pgbench", "completed": false}',
            '{"request_id": "x", "actor": "w", "schema_version": 1}', now());
    IF p_notify THEN
        PERFORM pg_notify('old_events', '');
    END IF;
END
$$;
