-- Wake the live event stream (GET /api/events/stream) when events are appended: one
-- notification per statement, delivered at commit (why a wake-up and nothing more:
-- functions/notify_events_appended.sql).
--
-- Rewritten when its function moved to sql/functions/ (the schema is the same):
-- replaces: dbcde42d4c05c69c53fc8c3d438bb2e2cad8d1fd55b6d5a0fe580076bf090af6
-- needs: functions/notify_events_appended.sql

-- DROP and CREATE rather than CREATE OR REPLACE TRIGGER, which needs PostgreSQL 14.
DROP TRIGGER IF EXISTS events_appended_notify
    ON events;

CREATE TRIGGER events_appended_notify
    AFTER INSERT
    ON events
    FOR EACH STATEMENT
    EXECUTE FUNCTION notify_events_appended();
