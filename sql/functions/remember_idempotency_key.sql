-- Record an idempotency key (migrations/0030_idempotency_keys.sql), or take over an
-- expired one; a fresh one raises unique_violation on constraint idempotency_keys_pkey,
-- which the caller recognises (app/storage/idempotency_keys.py). append_task_events
-- calls it for a command that appends; the service calls it alone for one that appends
-- nothing (a PUT that changes nothing).
-- The time is a variable, not now() in the statement: Citus refuses functions that are not
-- IMMUTABLE in the DO UPDATE of a distributed table, timestamptz - interval included
-- (docs/scaling.md); variables are parameters, the same values now() would give.
CREATE OR REPLACE FUNCTION remember_idempotency_key(
    p_user_id      text,
    p_key          text,
    p_request_hash bytea,
    p_status       integer,
    p_headers      jsonb,
    p_body         bytea,
    p_ttl_seconds  double precision
) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := now();
    expired_before timestamptz := at - make_interval(secs => p_ttl_seconds);
BEGIN
    INSERT INTO idempotency_keys (user_id, key, request_hash, status, headers, body, created_at)
    VALUES (p_user_id, p_key, p_request_hash, p_status, p_headers, p_body, at)
        ON CONFLICT (user_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash,
           status = EXCLUDED.status,
           headers = EXCLUDED.headers,
           body = EXCLUDED.body,
           created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at < expired_before;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'idempotency key already used'
            USING ERRCODE = 'unique_violation',
                  CONSTRAINT = 'idempotency_keys_pkey';
    END IF;
END
$$;
