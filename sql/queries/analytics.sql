-- name: ensure_analyst_role
SELECT ensure_analyst_role($1, $2)

-- name: user_has_events
-- In the log, or still waiting for the sequencer.
SELECT EXISTS (
       SELECT 1
         FROM events
        WHERE user_id = $1
       )
    OR EXISTS (
       SELECT 1
         FROM pending_events
        WHERE user_id = $1
       )

-- name: erase_user
SELECT erasure_position, events_redacted, tasks_redacted
  FROM erase_user($1, $2, $3)
