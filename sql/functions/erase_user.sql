-- Erasure on request (the right to be forgotten): remove a user's personal data
-- (titles, descriptions, the actor) from the log and the read table in one transaction,
-- keeping every event's position, stream, version, type and time, so counts and the
-- shape of the audit trail survive. Returns the position of the UserErased event that
-- records who erased whom, when, and how much.
--
-- 1. LOCK TABLE tasks stops every writer at its read-row write, which every append does
--    first (append_task_events). Nothing of this user (or anyone) is appended while the
--    erasure runs. Then the sequencer's lock, held to the end: every committed event is
--    moved into the log first, and nothing moves while the log is redacted, so the
--    UPDATE below sees every event before the erasure and none escapes through the
--    queue (pending_events). Readers are not blocked; the feed waits for the commit.
--    EXCLUSIVE, not SHARE ROW EXCLUSIVE: a command that lost two races takes its task's
--    row lock (SELECT ... FOR UPDATE, which holds ROW SHARE on the table) before it
--    writes. SHARE ROW EXCLUSIVE does not wait for ROW SHARE, so the erasure got its
--    table lock, then waited for that row in its UPDATE, while the command's next
--    statement waited for the erasure's table lock: a deadlock. EXCLUSIVE waits for row
--    lockers too, and still lets plain reads through.
-- 2. Past events are rewritten in place, through the one bypass of the append-only
--    trigger (functions/events_refuse_change.sql): this function is SECURITY DEFINER,
--    so it runs as the log's owner, and it switches tasks.erasure on for this
--    transaction only (on Citus, on the workers too).
-- 3. Every live task that held personal data gets a TaskErased event in its own stream,
--    and its read row the same fold (title "[erased]", description null, version + 1).
--    The version step is what makes a writer that read the task before the erasure fail
--    its version check and reload, instead of writing the old title back.
-- 4. UserErased goes in the user's own stream (user_stream_id), never a task's.
-- 5. The erasure's own events are queued as any command's are, and sequenced before the
--    commit (the TaskErased events, then UserErased), so the position returned is the
--    UserErased event's, and it comes after the events it counts.
CREATE OR REPLACE FUNCTION erase_user(
    p_user_id    text,
    p_erased_by  text,
    p_request_id text DEFAULT NULL
) RETURNS TABLE (erasure_position bigint, events_redacted integer, tasks_redacted integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    at timestamptz;
    meta jsonb := jsonb_build_object(
        'request_id', p_request_id, 'actor', p_erased_by, 'schema_version', 1);
BEGIN
    IF coalesce(p_user_id, '') = '' OR coalesce(p_erased_by, '') = '' THEN
        RAISE EXCEPTION 'erase_user needs a user id and who erases'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOCK TABLE tasks IN EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock(tasks_lock_key('sequence'));
    PERFORM sequence_events();
    -- A SET LOCAL statement, not set_config(): on Citus the UPDATE runs on the workers'
    -- shards, whose triggers must see the setting, and Citus passes on SET LOCAL statements
    -- (only) when told to. On one server the first line sets a setting nobody reads.
    SET LOCAL citus.propagate_set_commands = 'local';
    SET LOCAL tasks.erasure = 'on';
    at := clock_timestamp();

    UPDATE events
       SET data = data
               || CASE WHEN data ? 'title' THEN '{"title": "[erased]"}'::jsonb ELSE '{}' END
               || CASE WHEN data ? 'description' THEN '{"description": null}'::jsonb ELSE '{}' END,
           metadata = metadata
               || CASE WHEN metadata ? 'actor' THEN '{"actor": "[erased]"}'::jsonb ELSE '{}' END
     WHERE user_id = p_user_id
       AND type NOT IN ('TaskErased', 'UserErased')
       AND ((data ? 'title' AND data ->> 'title' <> '[erased]')
            OR (data ? 'description' AND data -> 'description' <> 'null'::jsonb)
            OR (metadata ? 'actor' AND metadata ->> 'actor' IS DISTINCT FROM '[erased]'));
    GET DIAGNOSTICS events_redacted = ROW_COUNT;

    WITH erased AS (
        UPDATE tasks
           SET title = '[erased]',
               description = NULL,
               updated_at = at,
               version = version + 1
         WHERE user_id = p_user_id
           AND (title <> '[erased]' OR description IS NOT NULL)
        RETURNING id, version
    )
    INSERT INTO pending_events (user_id, stream_id, version, type, data, metadata, recorded_at)
    SELECT p_user_id, erased.id, erased.version, 'TaskErased', '{}', meta, at
      FROM erased
     ORDER BY erased.id;
    GET DIAGNOSTICS tasks_redacted = ROW_COUNT;
    PERFORM sequence_events();  -- the TaskErased events first, then the UserErased that counts them

    INSERT INTO pending_events (user_id, stream_id, version, type, data, metadata, recorded_at)
    SELECT p_user_id, user_stream_id(p_user_id), coalesce(max(e.version), 0) + 1, 'UserErased',
           jsonb_build_object('erased_by', p_erased_by, 'events_redacted', events_redacted,
                              'tasks_redacted', tasks_redacted),
           meta, at
      FROM events AS e
     WHERE e.user_id = p_user_id
       AND e.stream_id = user_stream_id(p_user_id);

    PERFORM sequence_events();
    SELECT e.position
      INTO erasure_position
      FROM events AS e
     WHERE e.user_id = p_user_id
       AND e.stream_id = user_stream_id(p_user_id)
     ORDER BY e.version DESC
     LIMIT 1;
    RETURN NEXT;
END
$$;

-- Only the owner (the operator's `tasks users erase`) may erase; functions are
-- executable by PUBLIC unless revoked, and this one runs with the owner's rights.
REVOKE ALL
    ON FUNCTION erase_user(text, text, text)
  FROM PUBLIC;
