-- Reading the CRUD service's tasks table (on the source database) and bringing it in
-- (on this service's). {table} is the source table's name, checked against a strict
-- pattern and quoted (app/storage/crud_import.py): an identifier cannot be a parameter.

-- name: source_columns
-- The table's columns and their types; none when there is no such table.
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute AS a
 WHERE a.attrelid = to_regclass($1)
   AND a.attnum > 0
   AND NOT a.attisdropped

-- name: source_count
SELECT count(*)
  FROM {table}

-- name: source_first
-- The first batch, in id order (the table's primary key). Times without a zone are read
-- as UTC: the session's TimeZone is UTC.
SELECT id::uuid AS id,
       user_id::text AS user_id,
       title::text AS title,
       description::text AS description,
       completed::boolean AS completed,
       created_at::timestamptz AS created_at,
       updated_at::timestamptz AS updated_at
  FROM {table}
 ORDER BY id
 LIMIT $1

-- name: source_next
-- The batch after the last id read: a range scan of the primary key (no "$1 IS NULL OR",
-- which a generic plan would answer with a scan and a sort of the whole table).
SELECT id::uuid AS id,
       user_id::text AS user_id,
       title::text AS title,
       description::text AS description,
       completed::boolean AS completed,
       created_at::timestamptz AS created_at,
       updated_at::timestamptz AS updated_at
  FROM {table}
 WHERE id > $1
 ORDER BY id
 LIMIT $2

-- name: import_batch
SELECT import_crud_tasks($1, $2, $3, $4, $5, $6, $7, $8, $9)
