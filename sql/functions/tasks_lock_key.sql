-- The advisory lock keys this service takes: the one place they are written. SQL calls
-- tasks_lock_key('append'); the Python side (app/runtime/locks.py) reads the same
-- list from this file, so the two cannot disagree.
--
-- append:  every append takes it, held to commit, so positions become visible in commit
--          order (append_task_events); erasure and the rebuild's swap take it too.
-- migrate: serialises `tasks migrate` runs of several processes starting at once.
-- rebuild: one rebuild at a time (exclusive); verifies run beside each other (shared).
-- leader:  held by the one process that runs the once-per-deployment jobs.
--
-- IMMUTABLE, so a call with a constant name is folded into a constant when a statement
-- is planned: it costs nothing on the append path. An unknown name is an error, never a
-- NULL key (the advisory lock functions are STRICT and would silently lock nothing).
CREATE OR REPLACE FUNCTION tasks_lock_key(p_name text)
RETURNS bigint
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    CASE p_name
        WHEN 'append' THEN RETURN 1952539499;  -- 0x7461736b, "task"
        WHEN 'migrate' THEN RETURN 1952539500;
        WHEN 'rebuild' THEN RETURN 1952539501;
        WHEN 'leader' THEN RETURN 1952539502;
        ELSE RAISE EXCEPTION 'no advisory lock key named %', p_name
                 USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END
$$;
