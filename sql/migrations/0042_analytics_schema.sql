-- The schema analysts read: views over the event log, nothing they can write.
-- A read-only role (`tasks analyst-role NAME`) gets USAGE on it and SELECT on its views.
CREATE SCHEMA IF NOT EXISTS analytics;

COMMENT ON SCHEMA analytics IS
    'Read-only views over the event log for analysts; documented in docs/analytics.md.';
