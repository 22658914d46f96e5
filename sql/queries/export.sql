-- name: bind
-- The filters, bound as parameters, kept until the end of the transaction.
SELECT set_config('tasks.export_from', $1::bigint::text, true),
       set_config('tasks.export_to', $2::bigint::text, true),
       set_config('tasks.export_since', coalesce($3::timestamptz, '-infinity')::text, true),
       set_config('tasks.export_until', coalesce($4::timestamptz, 'infinity')::text, true),
       set_config('tasks.export_type', coalesce($5::text, ''), true),
       set_config('tasks.export_user', coalesce($6::text, ''), true)

-- name: narrow
-- One batch: the position range (from, to].
SELECT set_config('tasks.export_from', $1::bigint::text, true),
       set_config('tasks.export_to', $2::bigint::text, true)

-- name: bounds
SELECT count(*) AS events,
       min(position) AS first,
       max(position) AS last
  FROM export_selection

-- name: by_position
-- Batches read the position index, already in log order. The planner cannot see the
-- filters' values (they are settings), guesses a handful of rows and would pick a
-- bitmap scan and a sort that spills to disk instead.
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_sort = off

-- name: ndjson
-- One JSON object per line, the shape of the API's event feed. Built by concatenation:
-- the numbers, the uuid and the time need no escaping, user_id and type go through
-- to_json, data and metadata are jsonb already; json_build_object is slower.
SELECT '{"position":' || position
       || ',"stream_id":"' || stream_id
       || '","version":' || version
       || ',"user_id":' || to_json(user_id)
       || ',"type":' || to_json(type)
       || ',"data":' || data
       || ',"metadata":' || metadata
       || ',"recorded_at":"' || rfc3339(recorded_at)
       || '"}'
  FROM export_selection
 ORDER BY position

-- name: columns
-- The columns of analytics.events but the raw metadata (its fields are columns already;
-- printing it cost a quarter of the CSV's time), for CSV (through COPY) and Parquet.
SELECT position, recorded_at, user_id, stream_id::text AS stream_id, task_id::text AS task_id,
       version, type, title, description,
       completed, sets_title, sets_description, request_id, actor, schema_version,
       data::text AS data
  FROM export_selection
 ORDER BY position
