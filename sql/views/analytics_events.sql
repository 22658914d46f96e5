-- analytics.events: one row per event, the data and metadata fields as typed columns.
-- Columns are documented in docs/analytics.md. A view runs with its owner's rights, so
-- a reader needs SELECT on the view only. Filters on recorded_at reach the BRIN index.
CREATE OR REPLACE VIEW analytics.events AS
SELECT position,
       recorded_at,
       user_id,
       stream_id,
       CASE WHEN type <> 'UserErased' THEN stream_id END AS task_id,
       version,
       type,
       data ->> 'title' AS title,
       data ->> 'description' AS description,
       (data ->> 'completed')::boolean AS completed,
       data ? 'title' AS sets_title,
       data ? 'description' AS sets_description,
       metadata ->> 'request_id' AS request_id,
       metadata ->> 'actor' AS actor,
       (metadata ->> 'schema_version')::integer AS schema_version,
       data,
       metadata
  FROM events;

COMMENT ON VIEW analytics.events IS
    'One row per event in log order (position), data fields as typed columns.';
