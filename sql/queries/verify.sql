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
-- it, or with any column that differs (whole rows are compared, so a new column counts
-- without an edit here). `total` counts them all; LIMIT bounds the report.
SELECT coalesce(f.user_id, t.user_id) AS user_id,
       coalesce(f.id, t.id) AS id,
       f.id IS NOT NULL AS in_log,
       t.id IS NOT NULL AS in_table,
       f AS folded,
       t AS stored,
       count(*) OVER () AS total
  FROM folded_tasks AS f
  FULL JOIN tasks AS t
    ON t.user_id = f.user_id
   AND t.id = f.id
 WHERE f.id IS NULL
    OR t.id IS NULL
    OR ROW(f.*) IS DISTINCT FROM ROW(t.*)
 ORDER BY 1, 2
 LIMIT $1

-- name: count_table
SELECT count(*)
  FROM tasks
