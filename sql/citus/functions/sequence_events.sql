-- sequence_events on a Citus coordinator (functions/sequence_events.sql is the plain
-- PostgreSQL one; what differs and why: docs/scaling.md). Two changes:
-- 1. The lock first, then the look at the queue. A move commits on the workers one after
--    another (two-phase commit) while it holds the lock, so a queue that looks empty may be
--    a move half committed: taking the lock waits for that move to finish everywhere.
-- 2. It gives positions but does not make them visible: log_head.visible is advanced by
--    sequence_log, in a transaction after this one's commit (citus/functions/sequence_log.sql).
-- Everything else, the move's statement included, is the plain function's: pending_events
-- and events are distributed by user_id and colocated, and Citus runs the move as one
-- distributed transaction from the coordinator, where log_head (a plain table) lives.
-- needs: functions/tasks_lock_key.sql
CREATE OR REPLACE FUNCTION sequence_events(
    p_wait  boolean DEFAULT true,
    p_limit integer DEFAULT 10000
) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    head  bigint;
    moved integer;
BEGIN
    IF p_wait THEN
        PERFORM pg_advisory_xact_lock(tasks_lock_key('sequence'));
    ELSIF NOT pg_try_advisory_xact_lock(tasks_lock_key('sequence')) THEN
        RETURN -1;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pending_events) THEN
        RETURN 0;
    END IF;

    SELECT log_head.position
      INTO head
      FROM log_head;

    WITH keyed AS (
        SELECT user_id, stream_id, version,
               max(txid) OVER (PARTITION BY user_id, stream_id ORDER BY version) AS after
          FROM pending_events
    ), batch AS (
        SELECT user_id, stream_id, version,
               row_number() OVER (ORDER BY after, user_id, stream_id, version) AS n
          FROM keyed
         ORDER BY after, user_id, stream_id, version
         LIMIT p_limit
    ), taken AS (
        DELETE FROM pending_events AS p
         USING batch AS b
         WHERE p.user_id = b.user_id
           AND p.stream_id = b.stream_id
           AND p.version = b.version
        RETURNING p.*, b.n
    )
    INSERT INTO events (position, user_id, stream_id, version, type, data, metadata, recorded_at)
    SELECT head + n, user_id, stream_id, version, type, data, metadata, recorded_at
      FROM taken;
    GET DIAGNOSTICS moved = ROW_COUNT;

    IF moved > 0 THEN
        UPDATE log_head
           SET position = head + moved;
    END IF;
    RETURN moved;
END
$$;
