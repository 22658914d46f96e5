-- The distributed layout on a Citus coordinator, run by `tasks migrate` after the migrations
-- and definitions whenever the database has the citus extension (docs/scaling.md). Every
-- step is skipped once done, so it reruns safely and picks up what a later migration adds.
--
-- Per user, distributed by user_id and colocated (a user's rows of all four live in one
-- shard group, on one worker): the log, the queue, the read table, idempotency records.
-- A small global table as a reference table (a copy on every node): rebuild_checkpoints.
-- On the coordinator only: log_head (the sequencer's head and visible mark, written and
-- read there, by sequence_log and the readers' subqueries) and the migration records.
--
-- What the distributed layout cannot keep, and what stands in for it:
-- - the unique index on events (position): Citus enforces uniqueness only with the
--   distribution column; the sequencer alone gives positions, one move at a time, so a
--   plain index serves the feed's order.
-- - the NOTIFY trigger on events would fire on the workers' shards, where nobody listens:
--   sequence_log notifies from the coordinator instead (citus/functions/sequence_log.sql).
-- - the append-only triggers stay, and Citus creates them on every shard; it asks for
--   citus.enable_unsafe_triggers to distribute a table with triggers, because a trigger on
--   a shard could touch other shards: these only raise, so they are safe.
-- Functions: append_task_events and remember_idempotency_key are distributed by their
-- first argument, colocated with events, and delegated (force_delegation): a command's
-- call goes to the worker holding the user's shard and runs there, one round trip. Every
-- other function of ours is on the workers too.
-- 8 shards: plenty for a few workers; citus.shard_count decides only at distribution.
DO $distribute$
DECLARE
    tbl text;
    fn  regprocedure;
BEGIN
    PERFORM set_config('citus.shard_count', '8', true);
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    -- One connection per node for the whole step: distributing a function in the
    -- transaction that distributed tables needs it.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);

    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'events'::regclass) THEN
        DROP TRIGGER IF EXISTS events_appended_notify
            ON events;
        DROP INDEX IF EXISTS events_position_idx;
        CREATE INDEX events_position_idx
            ON events (position);
        PERFORM create_distributed_table('events', 'user_id');
    END IF;

    FOREACH tbl IN ARRAY ARRAY['pending_events', 'tasks', 'idempotency_keys'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = tbl::regclass) THEN
            PERFORM create_distributed_table(tbl, 'user_id', colocate_with => 'events');
        END IF;
    END LOOP;

    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
                    WHERE logicalrelid = 'rebuild_checkpoints'::regclass) THEN
        PERFORM create_reference_table('rebuild_checkpoints');
    END IF;

    -- Citus propagates a function to the workers when it is created; these two are then
    -- made routed and delegated, once (a later CREATE OR REPLACE keeps that).
    FOR fn IN
        SELECT p.oid::regprocedure
          FROM pg_proc AS p
         WHERE p.pronamespace = 'public'::regnamespace
           AND p.proname IN ('append_task_events', 'remember_idempotency_key')
           AND NOT EXISTS (SELECT 1 FROM pg_dist_object AS o
                            WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid
                              AND o.distribution_argument_index IS NOT NULL)
    LOOP
        PERFORM create_distributed_function(fn, 'p_user_id',
                                            colocate_with => 'events',
                                            force_delegation => true);
    END LOOP;
    -- Any function created before the extension: propagated too (shard queries call
    -- rfc3339, the shards' triggers call events_refuse_change).
    FOR fn IN
        SELECT p.oid::regprocedure
          FROM pg_proc AS p
         WHERE p.pronamespace = 'public'::regnamespace
           AND p.prokind = 'f'
           AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                            WHERE d.objid = p.oid AND d.deptype = 'e')
           AND NOT EXISTS (SELECT 1 FROM pg_dist_object AS o
                            WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
    LOOP
        PERFORM create_distributed_function(fn);
    END LOOP;
END
$distribute$;
