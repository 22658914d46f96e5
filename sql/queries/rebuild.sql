-- name: try_lock
-- One rebuild at a time, and none while `tasks verify` runs: a session lock held for the
-- whole run.
SELECT pg_try_advisory_lock(tasks_lock_key('rebuild'))

-- name: unlock
SELECT pg_advisory_unlock(tasks_lock_key('rebuild'))

-- name: fresh_exists
SELECT to_regclass('tasks_rebuild') IS NOT NULL

-- name: create_fresh
-- The fresh table: the read table's columns (LIKE follows any later migration of them),
-- and its key and index under names that become the read table's at the swap. The swap
-- refuses to go ahead if the read table has an index this one lacks.
-- Laid out as the read table is (colocate_with_log: on Citus, distributed). A DO block for
-- the reason the swap's is one.
DO $fresh$
BEGIN
    DROP TABLE IF EXISTS tasks_rebuild;
    CREATE TABLE tasks_rebuild (LIKE tasks INCLUDING ALL EXCLUDING INDEXES);
    ALTER TABLE tasks_rebuild
      ADD CONSTRAINT tasks_rebuild_pkey PRIMARY KEY (user_id, id);
    CREATE INDEX tasks_rebuild_user_created_idx
        ON tasks_rebuild (user_id, created_at DESC, id DESC);
    PERFORM colocate_with_log('tasks_rebuild');
END
$fresh$;

-- name: get_checkpoint
SELECT snapshot_position, snapshot_events, last_user_id, last_stream_id, events_done,
       bulk_done, caught_up_position
  FROM rebuild_checkpoints
 WHERE name = 'tasks'

-- name: start_checkpoint
INSERT INTO rebuild_checkpoints (name, snapshot_position, snapshot_events)
VALUES ('tasks', $1, $2)
    ON CONFLICT (name) DO UPDATE
   SET snapshot_position = excluded.snapshot_position,
       snapshot_events = excluded.snapshot_events,
       last_user_id = NULL,
       last_stream_id = NULL,
       events_done = 0,
       bulk_done = false,
       caught_up_position = NULL,
       started_at = excluded.started_at,  -- not now(): Citus refuses it in DO UPDATE
       updated_at = excluded.updated_at

-- name: save_bulk
UPDATE rebuild_checkpoints
   SET last_user_id = $1,
       last_stream_id = $2,
       events_done = $3,
       updated_at = now()
 WHERE name = 'tasks'

-- name: finish_bulk
UPDATE rebuild_checkpoints
   SET bulk_done = true,
       caught_up_position = snapshot_position,
       updated_at = now()
 WHERE name = 'tasks'

-- name: save_catch_up
UPDATE rebuild_checkpoints
   SET caught_up_position = $1,
       events_done = events_done + $2,
       updated_at = now()
 WHERE name = 'tasks'

-- name: fresh_rows
SELECT *
  FROM tasks_rebuild
 WHERE (user_id, id) IN (SELECT * FROM unnest($1::text[], $2::uuid[]))

-- name: delete_fresh_rows
DELETE FROM tasks_rebuild
 WHERE (user_id, id) IN (SELECT * FROM unnest($1::text[], $2::uuid[]))

-- name: count_fresh
SELECT count(*)
  FROM tasks_rebuild

-- name: analyze_fresh
ANALYZE tasks_rebuild

-- name: table_shape
-- A table's columns and indexes (their own names and their table's left out), to check
-- the fresh table is the read table's double before one replaces the other.
SELECT format('column %s %s%s', attname, format_type(atttypid, atttypmod),
              CASE WHEN attnotnull THEN ' NOT NULL' ELSE '' END)
  FROM pg_attribute
 WHERE attrelid = $1::regclass
   AND attnum > 0
   AND NOT attisdropped
 UNION ALL
SELECT regexp_replace(pg_get_indexdef(indexrelid), '^CREATE (UNIQUE )?INDEX \S+ ON \S+ ', 'CREATE \1INDEX ON ')
  FROM pg_index
 WHERE indrelid = $1::regclass
 ORDER BY 1

-- name: lock_for_swap
-- Every append writes its read row first, so once the table lock is held no append is
-- in flight and none can start; then every committed event is sequenced, and the
-- catch-up that follows reads the log to its true end.
-- A bounded wait: queries queue behind a waiting table lock, so give up and retry.
-- On Citus: one connection per worker for the transaction, as its DDL (the swap) needs
-- after the move's statements (ignored on one server).
SET LOCAL lock_timeout = '2s';
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE;
SELECT sequence_events();

-- name: swap
-- A DO block, so each statement reaches the server alone: Citus passes a DDL statement's
-- text on to the workers, and refuses text that holds several.
DO $swap$
BEGIN
    DROP TABLE tasks;
    ALTER TABLE tasks_rebuild
          RENAME TO tasks;
    ALTER INDEX tasks_rebuild_pkey
          RENAME TO tasks_pkey;
    ALTER INDEX tasks_rebuild_user_created_idx
          RENAME TO tasks_user_created_idx;
    DELETE FROM rebuild_checkpoints
     WHERE name = 'tasks';
END
$swap$;
