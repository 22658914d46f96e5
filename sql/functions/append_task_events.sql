-- Append a command's events to a task's stream and write the task's read row,
-- in the one statement (and so the one transaction) the caller runs.
--
-- p_task is the task as the command leaves it, folded in Python (events/evolve.py,
-- called by app/service.py) and sent whole as JSON: its fields are the read table's
-- columns, and `deleted`. This function only persists it, so "what an event does to a
-- task" has one definition, shared with rebuild (projections/). A new column needs an
-- edit here only if commands change it (the UPDATE below); the INSERT takes every column.
-- p_user_id comes first and apart, as the distribution argument under Citus
-- (docs/scaling.md).
--
-- Order matters:
-- 1. The read row is written first, guarded by the expected version. That takes
--    the row lock, so a concurrent command on the same task waits here and then
--    fails with serialization_failure (40001) instead of overwriting; the
--    caller reloads and decides again. It is the only wait an append has: two
--    commands on one task.
-- 2. Then the command's idempotency record, if it has one (remember_idempotency_key):
--    after the row lock, so every path takes the row lock before the key (no deadlock
--    with a writer that holds the row lock). The key parameters are trailing, with
--    defaults, so a caller without a key leaves them out.
-- 3. Then the events, into pending_events: the sequencer gives them their positions
--    once this commits (functions/sequence_events.sql). No global lock, no NOTIFY
--    (why: migrations/0052_sequenced_log.sql).
-- 4. A create checks that the log has no event of its stream yet: a deleted task's read
--    row is gone, so the INSERT in 1. would not notice a reused id, and the sequencer
--    must never meet a key the log already holds. Checked after 3., whose insert waits
--    for a sequencer moving the same key: this statement's snapshot, taken after, sees
--    the moved rows.
-- Returns the stream's new version.
CREATE OR REPLACE FUNCTION append_task_events(
    p_user_id          text,
    p_task             jsonb,
    p_expected_version integer,
    p_types            text[],
    p_data             jsonb[],
    p_metadata         jsonb[],
    p_recorded_at      timestamptz,
    p_key              text             DEFAULT NULL,
    p_request_hash     bytea            DEFAULT NULL,
    p_status           integer          DEFAULT NULL,
    p_headers          jsonb            DEFAULT NULL,
    p_body             bytea            DEFAULT NULL,
    p_key_ttl_seconds  double precision DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    task_id uuid := (p_task ->> 'id')::uuid;
BEGIN
    IF p_expected_version = 0 THEN
        INSERT INTO tasks
        SELECT *
          FROM jsonb_populate_record(NULL::tasks, p_task);
    ELSIF (p_task ->> 'deleted')::boolean THEN
        DELETE FROM tasks
         WHERE user_id = p_user_id
           AND id = task_id
           AND version = p_expected_version;
    ELSE
        -- The columns a command changes, read straight from the JSON: cheaper than a join
        -- with jsonb_populate_record, and no row type to go stale when a rebuild swaps
        -- the table under this function's cached plans (the INSERT names the table, so
        -- its plan is made again then).
        UPDATE tasks
           SET title = p_task ->> 'title',
               description = p_task ->> 'description',
               completed = (p_task ->> 'completed')::boolean,
               updated_at = (p_task ->> 'updated_at')::timestamptz,
               version = (p_task ->> 'version')::integer
         WHERE user_id = p_user_id
           AND id = task_id
           AND version = p_expected_version;
    END IF;
    IF p_expected_version > 0 AND NOT FOUND THEN
        RAISE EXCEPTION 'task % is no longer at version %', task_id, p_expected_version
            USING ERRCODE = 'serialization_failure';
    END IF;

    IF p_key IS NOT NULL THEN
        PERFORM remember_idempotency_key(p_user_id, p_key, p_request_hash, p_status, p_headers,
                                         p_body, p_key_ttl_seconds);
    END IF;

    INSERT INTO pending_events (user_id, stream_id, version, type, data, metadata, recorded_at)
    SELECT p_user_id, task_id, p_expected_version + e.n, e.type, e.data, e.metadata,
           p_recorded_at
      FROM unnest(p_types, p_data, p_metadata) WITH ORDINALITY AS e(type, data, metadata, n);

    IF p_expected_version = 0 AND EXISTS (
           SELECT 1
             FROM events
            WHERE user_id = p_user_id
              AND stream_id = task_id
       ) THEN
        RAISE EXCEPTION 'stream % already has events', task_id
            USING ERRCODE = 'unique_violation',
                  CONSTRAINT = 'events_pkey';
    END IF;
    RETURN p_expected_version + cardinality(p_types);
END
$$;
