-- name: get
SELECT id, user_id, title, description, completed, created_at, updated_at, version
  FROM tasks
 WHERE user_id = $1
   AND id = $2

-- name: get_for_update
SELECT id, user_id, title, description, completed, created_at, updated_at, version
  FROM tasks
 WHERE user_id = $1
   AND id = $2
   FOR UPDATE

-- name: list_json
-- The page of `list`, each task already the API's JSON (the keys of TaskOut in its order,
-- times as RFC 3339 UTC with six digits of microseconds), so the service passes the text on
-- instead of decoding rows and encoding them again.
SELECT t.created_at, t.id, row_to_json(j)::text AS body
  FROM tasks AS t
 CROSS JOIN LATERAL (
       SELECT t.id, t.user_id, t.title, t.description, t.completed,
              to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
              to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at,
              t.version
       ) AS j
 WHERE t.user_id = $1
   AND ($2::boolean IS NULL OR t.completed = $2)
   AND ($3::timestamptz IS NULL OR (t.created_at, t.id) < ($3, $4::uuid))
 ORDER BY t.created_at DESC, t.id DESC
 LIMIT $5
