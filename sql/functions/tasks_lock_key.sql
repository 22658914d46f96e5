-- The advisory lock keys this service takes: the one place they are written. SQL calls
-- tasks_lock_key('sequence'); the Python side (app/runtime/locks.py) reads the same
-- list from this file, so the two cannot disagree.
--
-- sequence: held by the one sequencer at work, to its commit, so positions become
--           visible in ascending order (sequence_events); erasure holds it while it
--           redacts. Appends take no lock (migrations/0052_sequenced_log.sql).
-- migrate:  serialises `tasks migrate` runs of several processes starting at once.
-- rebuild:  one rebuild at a time (exclusive); verifies run beside each other (shared).
-- leader:   held by the one process that runs the once-per-deployment jobs.
-- import:   one `tasks import-crud` batch at a time, so two runs never bring the same
--           task in twice (import_crud_tasks).
--
-- IMMUTABLE, so a call with a constant name is folded into a constant when a statement
-- is planned. An unknown name is an error, never a NULL key (the advisory lock functions
-- are STRICT and would silently lock nothing).
CREATE OR REPLACE FUNCTION tasks_lock_key(p_name text)
RETURNS bigint
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    CASE p_name
        WHEN 'migrate' THEN RETURN 1952539500;
        WHEN 'rebuild' THEN RETURN 1952539501;
        WHEN 'leader' THEN RETURN 1952539502;
        WHEN 'sequence' THEN RETURN 1952539503;
        WHEN 'import' THEN RETURN 1952539504;
        ELSE RAISE EXCEPTION 'no advisory lock key named %', p_name
                 USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END
$$;
