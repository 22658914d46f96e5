-- sequence_log on a Citus coordinator (functions/sequence_log.sql is the plain one): give
-- committed pending events their positions, then make them visible, in two transactions.
--
-- The move (sequence_events) is one distributed transaction: it commits on the coordinator,
-- then on each worker in turn (two-phase commit), and a multi-shard read takes no global
-- snapshot, so a reader could see one worker's part of a move and not another's, then page
-- past the rest and never see it. Readers of the log in position order therefore read up
-- to log_head.visible only, and this procedure advances it in a second transaction, after
-- the move's commit has returned (Citus returns once every worker has committed; the lock
-- is held until then, so taking it here waits for any move still committing).
-- The count guard: `visible` moves to the head only if every position up to it is there
-- to read (a worker whose commit failed is recovered by Citus later; until then the mark
-- waits). Then one NOTIFY wakes the live streams, from the coordinator, where they listen.
-- Must be CALLed outside a transaction block (it commits); erase_user and a rebuild's swap
-- call sequence_events inside theirs, and the next sequence_log publishes their moves.
-- needs: functions/sequence_events.sql
CREATE OR REPLACE PROCEDURE sequence_log(
    p_wait      boolean,
    INOUT moved integer DEFAULT NULL,
    p_limit     integer DEFAULT 10000
)
LANGUAGE plpgsql
AS $$
DECLARE
    head    bigint;
    shown   bigint;
    counted bigint;
BEGIN
    moved := sequence_events(p_wait, p_limit);
    COMMIT;
    IF moved < 0 THEN
        RETURN;  -- another sequencer is at work, and publishes what it moves
    END IF;
    IF p_wait THEN
        PERFORM pg_advisory_xact_lock(tasks_lock_key('sequence'));
    ELSIF NOT pg_try_advisory_xact_lock(tasks_lock_key('sequence')) THEN
        RETURN;
    END IF;
    SELECT log_head.position, log_head.visible
      INTO head, shown
      FROM log_head;
    IF head > shown THEN
        SELECT count(*)
          INTO counted
          FROM events
         WHERE position > shown
           AND position <= head;
        IF counted = head - shown THEN
            UPDATE log_head
               SET visible = head;
            PERFORM pg_notify('tasks_events', '');
        END IF;
    END IF;
END
$$;
