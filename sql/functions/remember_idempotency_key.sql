-- Record an idempotency key (migrations/0030_idempotency_keys.sql), or take over an
-- expired one; a fresh one raises unique_violation on constraint idempotency_keys_pkey,
-- which the caller recognises (app/storage/idempotency_keys.py). append_task_events
-- calls it for a command that appends; the service calls it alone for one that appends
-- nothing (a PUT that changes nothing).
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
BEGIN
    INSERT INTO idempotency_keys (user_id, key, request_hash, status, headers, body)
    VALUES (p_user_id, p_key, p_request_hash, p_status, p_headers, p_body)
        ON CONFLICT (user_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash,
           status = EXCLUDED.status,
           headers = EXCLUDED.headers,
           body = EXCLUDED.body,
           created_at = now()
     WHERE idempotency_keys.created_at < now() - make_interval(secs => p_ttl_seconds);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'idempotency key already used'
            USING ERRCODE = 'unique_violation',
                  CONSTRAINT = 'idempotency_keys_pkey';
    END IF;
END
$$;
