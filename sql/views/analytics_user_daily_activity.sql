-- analytics.user_daily_activity: per user and UTC day, what the user did to their tasks.
-- Only the four task commands count; erasure and import events are the operator's, not
-- the user's.
-- Columns are documented in docs/analytics.md.
CREATE OR REPLACE VIEW analytics.user_daily_activity AS
SELECT user_id,
       (recorded_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS events,
       count(*) FILTER (WHERE type = 'TaskCreated') AS created,
       count(*) FILTER (WHERE type = 'TaskUpdated') AS updated,
       count(*) FILTER (WHERE type = 'TaskToggled' AND (data ->> 'completed')::boolean) AS completed,
       count(*) FILTER (WHERE type = 'TaskToggled' AND NOT (data ->> 'completed')::boolean) AS reopened,
       count(*) FILTER (WHERE type = 'TaskDeleted') AS deleted,
       count(DISTINCT stream_id) AS tasks_touched,
       min(recorded_at) AS first_event_at,
       max(recorded_at) AS last_event_at
  FROM events
 WHERE type IN ('TaskCreated', 'TaskUpdated', 'TaskToggled', 'TaskDeleted')
 GROUP BY user_id, (recorded_at AT TIME ZONE 'UTC')::date;

COMMENT ON VIEW analytics.user_daily_activity IS
    'Per user and UTC day: events, tasks created, updated, completed, reopened, deleted.';
