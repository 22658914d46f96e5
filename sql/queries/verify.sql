-- name: try_lock
-- Shared with other checks, exclusive of a rebuild: its swap renames the table under a
-- snapshot that would not see the new table's rows (the rebuild's lock).
SELECT pg_try_advisory_lock_shared(tasks_lock_key('rebuild'))

-- name: unlock
SELECT pg_advisory_unlock_shared(tasks_lock_key('rebuild'))

-- name: create_folded
-- The fold of the log, for comparing with the read table; gone at the end of the check.
CREATE TEMP TABLE folded_tasks (LIKE tasks)
    ON COMMIT DROP

-- name: differences
-- Every task the fold and the read table disagree on: missing from the table, extra in
-- it, or with a field that differs. `total` counts them all; LIMIT bounds the report.
SELECT coalesce(f.user_id, t.user_id) AS user_id,
       coalesce(f.id, t.id) AS id,
       f.id IS NOT NULL AS in_log,
       t.id IS NOT NULL AS in_table,
       f.title AS log_title, t.title AS table_title,
       f.description AS log_description, t.description AS table_description,
       f.completed AS log_completed, t.completed AS table_completed,
       f.created_at AS log_created_at, t.created_at AS table_created_at,
       f.updated_at AS log_updated_at, t.updated_at AS table_updated_at,
       f.version AS log_version, t.version AS table_version,
       count(*) OVER () AS total
  FROM folded_tasks AS f
  FULL JOIN tasks AS t
    ON t.user_id = f.user_id
   AND t.id = f.id
 WHERE f.id IS NULL
    OR t.id IS NULL
    OR (f.title, f.description, f.completed, f.created_at, f.updated_at, f.version)
       IS DISTINCT FROM (t.title, t.description, t.completed, t.created_at, t.updated_at, t.version)
 ORDER BY 1, 2
 LIMIT $1

-- name: count_table
SELECT count(*)
  FROM tasks
