-- name: get
SELECT id, user_id, title, description, completed, created_at, updated_at, version
  FROM tasks
 WHERE user_id = $1
   AND id = $2

-- name: list
-- Keyset paging: $3/$4 are the (created_at, id) of the last task of the previous page.
SELECT id, user_id, title, description, completed, created_at, updated_at, version
  FROM tasks
 WHERE user_id = $1
   AND ($2::boolean IS NULL OR completed = $2)
   AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
 ORDER BY created_at DESC, id DESC
 LIMIT $5

-- name: get_for_update
SELECT id, user_id, title, description, completed, created_at, updated_at, version
  FROM tasks
 WHERE user_id = $1
   AND id = $2
   FOR UPDATE
