-- The trigger function that keeps the log append-only (migrations/0040_events_append_only.sql
-- says why and what erasure may do). Raises for every UPDATE, DELETE and TRUNCATE of an
-- event but the rewrite erase_user does as the log's owner.
CREATE OR REPLACE FUNCTION events_refuse_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('tasks.erasure', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
    THEN
        IF (NEW.position, NEW.user_id, NEW.stream_id, NEW.version, NEW.type, NEW.recorded_at)
           IS DISTINCT FROM
           (OLD.position, OLD.user_id, OLD.stream_id, OLD.version, OLD.type, OLD.recorded_at)
        THEN
            RAISE EXCEPTION 'erasure may rewrite only the data and metadata of an event'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Events are never changed; personal data is erased with `tasks users erase`.';
END
$$;
