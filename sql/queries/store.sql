-- name: append
SELECT append_task_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)

-- name: read_stream
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE user_id = $1
   AND stream_id = $2
 ORDER BY version

-- name: sequence
-- Give every committed pending event its position and make it visible, before reading the
-- log ($1: wait for a sequencer already at work, or give up at once and return -1).
CALL sequence_log($1, NULL)

-- name: read_all
-- The feeds read up to the log's visible end, never past it (migrations/0053_log_visible.sql):
-- a single value, read once per statement.
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE position > $1
   AND position <= (SELECT visible FROM log_head)
 ORDER BY position
 LIMIT $2

-- name: read_user
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE user_id = $1
   AND position > $2
   AND position <= (SELECT visible FROM log_head)
 ORDER BY position
 LIMIT $3

-- name: read_all_of_type
-- No (type, position) index: there are four types, each a large share of the log, so
-- walking positions and skipping other types reads few rows per event returned, while
-- another index would slow every move into the log.
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE position > $1
   AND type = $2
   AND position <= (SELECT visible FROM log_head)
 ORDER BY position
 LIMIT $3

-- name: read_user_of_type
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE user_id = $1
   AND position > $2
   AND type = $3
   AND position <= (SELECT visible FROM log_head)
 ORDER BY position
 LIMIT $4

-- name: head
-- The newest visible position in the log, 0 when it is empty.
SELECT visible
  FROM log_head
