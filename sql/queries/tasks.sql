-- name: get
SELECT *
  FROM tasks
 WHERE user_id = $1
   AND id = $2

-- name: get_for_update
SELECT *
  FROM tasks
 WHERE user_id = $1
   AND id = $2
   FOR UPDATE

-- name: list_json
-- A page of a user's tasks, newest first, each already the API's JSON, so the service
-- passes the text on instead of decoding rows and encoding them again. {task_json} is the
-- select list of one task's JSON, made from the read table's columns in the Task's order
-- (app/storage/tasks.py): the keys of TaskOut in its order, times through rfc3339().
-- Keyset paging: $3/$4 are the (created_at, id) of the last task of the previous page.
-- $5 NULL: no limit (LIMIT NULL is LIMIT ALL), the whole list.
SELECT t.created_at, t.id, row_to_json(j)::text AS body
  FROM tasks AS t
 CROSS JOIN LATERAL (
       SELECT {task_json}
       ) AS j
 WHERE t.user_id = $1
   AND ($2::boolean IS NULL OR t.completed = $2)
   AND ($3::timestamptz IS NULL OR (t.created_at, t.id) < ($3, $4::uuid))
 ORDER BY t.created_at DESC, t.id DESC
 LIMIT $5
