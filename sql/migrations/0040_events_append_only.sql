-- The event log is append-only, and the database itself says so: UPDATE and DELETE of
-- an event, and TRUNCATE of the log, are refused by triggers, whoever asks.
--
-- The one exception is erasure of a user's personal data (functions/erase_user.sql), which
-- rewrites the data and metadata of that user's events in place. It switches the
-- transaction-local setting tasks.erasure on, and the trigger lets an UPDATE through
-- only when that setting is on AND the statement runs as the owner of the events table
-- (erase_user is SECURITY DEFINER, so inside it current_user is the owner). Any role may
-- set a custom setting, so the setting alone guards against accidents, not against
-- anyone: the ownership check is what keeps every other role out, even one that was
-- granted UPDATE. The owner (and a superuser) can drop triggers anyway; no trigger can
-- protect a log from its owner. Even through erasure an event keeps its position,
-- stream, version, user, type and time; a DELETE or a TRUNCATE is never allowed.
--
-- Rewritten when its function moved to sql/functions/ (the schema is the same):
-- replaces: b10e1dd12a6762c4bcf666048b2f9e4aff49fe9749ca2ad4107208c5b530af8f
-- needs: functions/events_refuse_change.sql

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
