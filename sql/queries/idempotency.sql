-- name: recall
-- The stored response for a key, unless it has expired ($3: time to live in seconds).
SELECT request_hash, status, headers, body
  FROM idempotency_keys
 WHERE user_id = $1
   AND key = $2
   AND created_at >= now() - make_interval(secs => $3)

-- name: remember
SELECT remember_idempotency_key($1, $2, $3, $4, $5, $6, $7)

-- name: purge
-- Expired keys, oldest first, a bounded batch per run so a backlog never makes one long lock.
-- By key, not ctid: on Citus a row's ctid means nothing outside its shard.
DELETE FROM idempotency_keys
 WHERE (user_id, key) IN (
       SELECT user_id, key
         FROM idempotency_keys
        WHERE created_at < now() - make_interval(secs => $1)
        ORDER BY created_at
        LIMIT $2)

-- name: forget_user
-- Erasure: stored responses quote titles and descriptions.
DELETE FROM idempotency_keys
 WHERE user_id = $1
