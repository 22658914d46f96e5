-- name: log_snapshot
-- The last visible position of the log and how many events it holds up to there.
SELECT coalesce(max(position), 0) AS position,
       count(*) AS events
  FROM events
 WHERE position <= (SELECT visible FROM log_head)

-- name: log_by_stream
-- The log in stream order, for folding one task at a time: a keyset page after the
-- (user_id, stream_id, version) of the last event read, up to a snapshot position.
-- Served by the primary key, so every task's events arrive together and in order.
SELECT position, stream_id, version, user_id, type, data::text,
       coalesce((metadata ->> 'schema_version')::integer, 1),
       recorded_at
  FROM events
 WHERE (user_id, stream_id, version) > ($1, $2, $3)
   AND position <= $4
 ORDER BY user_id, stream_id, version
 LIMIT $5

-- name: log_and_pending_by_stream
-- The same, with the events still waiting for the sequencer (position 0), for a fold that
-- must match the read table in one snapshot: their read rows are written already.
SELECT *
  FROM (
        SELECT position, stream_id, version, user_id, type, data::text,
               coalesce((metadata ->> 'schema_version')::integer, 1),
               recorded_at
          FROM events
         WHERE (user_id, stream_id, version) > ($1, $2, $3)
           AND position <= $4
         UNION ALL
        SELECT 0, stream_id, version, user_id, type, data::text,
               coalesce((metadata ->> 'schema_version')::integer, 1),
               recorded_at
          FROM pending_events
         WHERE (user_id, stream_id, version) > ($1, $2, $3)
       ) AS log
 ORDER BY user_id, stream_id, version
 LIMIT $5

-- name: pending
-- How many committed events wait for their positions.
SELECT count(*)
  FROM pending_events

-- name: sequence
-- Every committed event given its position and made visible, waiting for a sequencer at
-- work. Outside a transaction (sequence_log commits on Citus).
CALL sequence_log(true, NULL)

-- name: log_after
-- The log in position order after a position, for catching up: up to its visible end, or
-- ($3, in_lock: the caller holds the sequencer's lock in its transaction, as a rebuild's
-- swap does) to the last position given, which that transaction's own move may have
-- advanced past the visible end (on Citus; on one server the two are equal).
SELECT position, stream_id, version, user_id, type, data::text,
       coalesce((metadata ->> 'schema_version')::integer, 1),
       recorded_at
  FROM events
 WHERE position > $1
   AND position <= (SELECT CASE WHEN $3::boolean THEN position ELSE visible END
                      FROM log_head)
 ORDER BY position
 LIMIT $2
