-- analytics.task_lifecycle: one row per task (every stream but the per-user ones of
-- UserErased), deleted tasks included, folded from the log with aggregates.
-- Columns are documented in docs/analytics.md.
-- A task brought in from the CRUD service (TaskImported) was created when the old table
-- says (its data's created_at), imported at its recorded_at; when it was first completed
-- before the import is not known (null), only that it was (completed).
CREATE OR REPLACE VIEW analytics.task_lifecycle AS
SELECT user_id,
       task_id,
       title,
       completed,
       created_at,
       first_completed_at,
       deleted_at,
       erased_at,
       updates,
       toggles,
       version,
       last_event_at,
       first_completed_at - created_at AS time_to_first_completion,
       imported_at
  FROM (
        SELECT user_id,
               stream_id AS task_id,
               (array_agg(data ->> 'title' ORDER BY version DESC)
                    FILTER (WHERE data ? 'title'))[1] AS title,
               (array_agg((data ->> 'completed')::boolean ORDER BY version DESC)
                    FILTER (WHERE data ? 'completed'))[1] AS completed,
               coalesce(min(recorded_at) FILTER (WHERE type = 'TaskCreated'),
                        min((data ->> 'created_at')::timestamptz)
                            FILTER (WHERE type = 'TaskImported')) AS created_at,
               min(recorded_at) FILTER (WHERE type = 'TaskImported') AS imported_at,
               min(recorded_at)
                    FILTER (WHERE type = 'TaskToggled' AND (data ->> 'completed')::boolean)
                    AS first_completed_at,
               min(recorded_at) FILTER (WHERE type = 'TaskDeleted') AS deleted_at,
               min(recorded_at) FILTER (WHERE type = 'TaskErased') AS erased_at,
               count(*) FILTER (WHERE type = 'TaskUpdated') AS updates,
               count(*) FILTER (WHERE type = 'TaskToggled') AS toggles,
               max(version) AS version,
               max(recorded_at) AS last_event_at
          FROM events
         WHERE type <> 'UserErased'
         GROUP BY user_id, stream_id
       ) AS folded;

COMMENT ON VIEW analytics.task_lifecycle IS
    'One row per task: created, first completed, deleted, updates and toggles, time to first completion.';
