-- name: append
SELECT append_task_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                          $13, $14, $15, $16, $17, $18)

-- name: read_stream
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE user_id = $1
   AND stream_id = $2
 ORDER BY version

-- name: read_all
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE position > $1
 ORDER BY position
 LIMIT $2

-- name: read_user
SELECT position, stream_id, version, user_id, type, data, metadata, recorded_at
  FROM events
 WHERE user_id = $1
   AND position > $2
 ORDER BY position
 LIMIT $3
