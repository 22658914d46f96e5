-- import_crud_tasks: bring one batch of the CRUD service's tasks into the log and the read
-- table (`tasks import-crud`, app/storage/crud_import.py), in one statement.
--
-- Each task becomes one TaskImported event at version 1 of its own stream (its old id),
-- whose data is the task as the old table held it, its created_at and updated_at
-- included; the read row gets those times too, so the list keeps its old order. The event
-- is queued in pending_events like any command's and gets its position from the sequencer
-- (functions/sequence_events.sql): the import takes no lock a command waits for.
--
-- Rerunnable: a task whose id the log (or its queue) already holds is left alone. For the
-- same user it is counted as `existing` (imported before, or made here since, and maybe
-- changed or deleted since: never overwritten or brought back); for another user it is a
-- `conflict`, listed, never imported. One batch at a time holds the import lock to its
-- commit, so two runs cannot both find a task new.
--
-- The id check reads the log's stream ids once per batch (a hash join): there is no index
-- on stream_id alone, and one would slow every move into the log.
--
-- p_dry_run: classify only, write nothing.
-- Returns {"imported": n, "existing": n, "conflicts": [{"id", "user_id", "owner"}]}.
-- needs: functions/tasks_lock_key.sql
-- needs: functions/rfc3339.sql
CREATE OR REPLACE FUNCTION import_crud_tasks(
    p_ids          uuid[],
    p_user_ids     text[],
    p_titles       text[],
    p_descriptions text[],
    p_completed    boolean[],
    p_created_at   timestamptz[],
    p_updated_at   timestamptz[],
    p_metadata     jsonb,
    p_dry_run      boolean DEFAULT false
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(tasks_lock_key('import'));

    WITH source AS (
        SELECT *
          FROM unnest(p_ids, p_user_ids, p_titles, p_descriptions, p_completed,
                      p_created_at, p_updated_at)
               AS s(id, user_id, title, description, completed, created_at, updated_at)
    ), known AS (
        -- Who holds each of the batch's ids already, in the log or its queue: one hash join
        -- each, then one row per id.
        SELECT stream_id, array_agg(DISTINCT user_id) AS owners
          FROM (SELECT stream_id, user_id
                  FROM events
                 WHERE stream_id IN (SELECT id FROM source)
                 UNION ALL
                SELECT stream_id, user_id
                  FROM pending_events
                 WHERE stream_id IN (SELECT id FROM source)) AS held
         GROUP BY stream_id
    ), classified AS (
        SELECT s.*,
               CASE
                   WHEN k.stream_id IS NULL THEN 'new'
                   WHEN s.user_id = ANY (k.owners) THEN 'existing'
                   ELSE 'conflict'
               END AS outcome,
               k.owners[1] AS owner
          FROM source AS s
          LEFT JOIN known AS k
            ON k.stream_id = s.id
    ), written AS (
        INSERT INTO tasks (user_id, id, title, description, completed, created_at, updated_at,
                           version)
        SELECT user_id, id, title, description, completed, created_at, updated_at, 1
          FROM classified
         WHERE outcome = 'new'
           AND NOT p_dry_run
        RETURNING user_id, id, title, description, completed, created_at, updated_at
    ), queued AS (
        INSERT INTO pending_events (user_id, stream_id, version, type, data, metadata,
                                    recorded_at)
        SELECT user_id, id, 1, 'TaskImported',
               jsonb_build_object(
                   'title', title,
                   'description', description,
                   'completed', completed,
                   'created_at', rfc3339(created_at),
                   'updated_at', rfc3339(updated_at)),
               p_metadata,
               now()
          FROM written
        RETURNING 1
    )
    SELECT jsonb_build_object(
               'imported', CASE WHEN p_dry_run
                                THEN (SELECT count(*) FROM classified WHERE outcome = 'new')
                                ELSE (SELECT count(*) FROM queued) END,
               'existing', (SELECT count(*) FROM classified WHERE outcome = 'existing'),
               'conflicts', coalesce(
                   (SELECT jsonb_agg(jsonb_build_object(
                               'id', c.id, 'user_id', c.user_id, 'owner', c.owner))
                      FROM classified AS c
                     WHERE c.outcome = 'conflict'),
                   '[]'::jsonb))
      INTO result;
    RETURN result;
END
$$;
