-- sequence_events: give committed pending events their positions, in commit order
-- (why: migrations/0052_sequenced_log.sql).
--
-- One sequencer at a time, under a lock only sequencers take: it moves the pending
-- events its snapshot sees (so: committed ones) into the log, numbered after the last
-- position given, and commits. The lock is held until that commit is visible, so the
-- next move starts after it and numbers after it: positions become visible in ascending
-- order. That is what lets a feed reader page by position and never skip an event.
--
-- Order within a move: by transaction id, so roughly in commit order, kept safe per
-- stream: a stream's key is the running maximum of the transaction ids along its
-- versions, so its events are numbered in version order even where ids do not follow
-- versions (under Citus, ids are per node; docs/scaling.md). On one server they do: a
-- command writes after the one before it committed, so it has the later id.
--
-- p_wait false: give up at once, returning -1, when another sequencer holds the lock
-- (the background sequencer does; readers that need the log current wait).
-- p_limit bounds one move, so a burst (an import) is sequenced in steps.
-- Returns how many events were moved. The lock is the caller's transaction's: call it in
-- autocommit, unless, as erase_user does, the caller means to hold it to its end.
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
    IF NOT EXISTS (SELECT 1 FROM pending_events) THEN
        RETURN 0;
    END IF;
    IF p_wait THEN
        PERFORM pg_advisory_xact_lock(tasks_lock_key('sequence'));
    ELSIF NOT pg_try_advisory_xact_lock(tasks_lock_key('sequence')) THEN
        RETURN -1;
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
           SET position = head + moved,
               visible = head + moved;  -- the move commits whole (migrations/0053_log_visible.sql)
    END IF;
    RETURN moved;
END
$$;
