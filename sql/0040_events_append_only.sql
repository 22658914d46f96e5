-- The event log is append-only, and the database itself says so: UPDATE and DELETE of
-- an event, and TRUNCATE of the log, are refused by triggers, whoever asks.
--
-- The one exception is erasure of a user's personal data (erase_user, 0047), which
-- rewrites the data and metadata of that user's events in place. It switches the
-- transaction-local setting tasks.erasure on, and the trigger lets an UPDATE through
-- only when that setting is on AND the statement runs as the owner of the events table
-- (erase_user is SECURITY DEFINER, so inside it current_user is the owner). Any role may
-- set a custom setting, so the setting alone guards against accidents, not against
-- anyone: the ownership check is what keeps every other role out, even one that was
-- granted UPDATE. The owner (and a superuser) can drop triggers anyway; no trigger can
-- protect a log from its owner. Even through erasure an event keeps its position,
-- stream, version, user, type and time; a DELETE or a TRUNCATE is never allowed.
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

DROP TRIGGER IF EXISTS events_no_update_or_delete
    ON events;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE
    ON events
    FOR EACH ROW
    EXECUTE FUNCTION events_refuse_change();

DROP TRIGGER IF EXISTS events_no_truncate
    ON events;

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE
    ON events
    FOR EACH STATEMENT
    EXECUTE FUNCTION events_refuse_change();
