-- Idempotency keys: the first response to a command sent with an Idempotency-Key,
-- replayed to every retry with the same key while the key is fresh.
--
-- A key is recorded by the same statement that appends the command's events
-- (append_task_events, below), so it exists exactly when its effect does: a crash
-- leaves neither or both. The key is (user_id, key): keys are per user. A second
-- request with a fresh key waits on this key's unique index until the first
-- commits, then fails with unique_violation and replays the stored response.
-- Expired keys are overwritten on reuse and purged by the service periodically.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer     NOT NULL,
    headers      jsonb       NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- The purge deletes by age.
CREATE INDEX IF NOT EXISTS idempotency_keys_created_idx
    ON idempotency_keys (created_at);

-- Record a key, or take over an expired one; a fresh one raises unique_violation
-- (on constraint idempotency_keys_pkey, which the caller recognises).
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

-- append_task_events (0003) gains the idempotency record, as trailing parameters
-- with defaults so a caller without a key is unchanged. The old signature is
-- dropped first: two overloads would make calls with 12 arguments ambiguous.
DROP FUNCTION IF EXISTS append_task_events(
    text, uuid, integer, text[], jsonb[], jsonb[], timestamptz, text, text, boolean, timestamptz,
    boolean
);

-- As in 0003, with the key recorded after the read row is written (so every path
-- takes the row lock before the key: no deadlock with a writer that holds the
-- row lock) and before the global append lock (so waiting on a key never holds
-- up other users' appends).
CREATE OR REPLACE FUNCTION append_task_events(
    p_user_id          text,
    p_stream_id        uuid,
    p_expected_version integer,
    p_types            text[],
    p_data             jsonb[],
    p_metadata         jsonb[],
    p_recorded_at      timestamptz,
    p_title            text,
    p_description      text,
    p_completed        boolean,
    p_created_at       timestamptz,
    p_deleted          boolean,
    p_key              text             DEFAULT NULL,
    p_request_hash     bytea            DEFAULT NULL,
    p_status           integer          DEFAULT NULL,
    p_headers          jsonb            DEFAULT NULL,
    p_body             bytea            DEFAULT NULL,
    p_key_ttl_seconds  double precision DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    new_version integer := p_expected_version + cardinality(p_types);
    last_position bigint;
BEGIN
    IF p_expected_version = 0 THEN
        INSERT INTO tasks (user_id, id, title, description, completed, created_at, updated_at, version)
        VALUES (p_user_id, p_stream_id, p_title, p_description, p_completed, p_created_at,
                p_recorded_at, new_version);
    ELSIF p_deleted THEN
        DELETE FROM tasks
         WHERE user_id = p_user_id
           AND id = p_stream_id
           AND version = p_expected_version;
    ELSE
        UPDATE tasks
           SET title = p_title,
               description = p_description,
               completed = p_completed,
               updated_at = p_recorded_at,
               version = new_version
         WHERE user_id = p_user_id
           AND id = p_stream_id
           AND version = p_expected_version;
    END IF;
    IF p_expected_version > 0 AND NOT FOUND THEN
        RAISE EXCEPTION 'task % is no longer at version %', p_stream_id, p_expected_version
            USING ERRCODE = 'serialization_failure';
    END IF;

    IF p_key IS NOT NULL THEN
        PERFORM remember_idempotency_key(p_user_id, p_key, p_request_hash, p_status, p_headers,
                                         p_body, p_key_ttl_seconds);
    END IF;

    -- 0x7461736b ("task"): the one lock every append takes; see 0003.
    PERFORM pg_advisory_xact_lock(1952539499);

    WITH appended AS (
        INSERT INTO events (user_id, stream_id, version, type, data, metadata, recorded_at)
        SELECT p_user_id, p_stream_id, p_expected_version + e.n, e.type, e.data, e.metadata,
               p_recorded_at
          FROM unnest(p_types, p_data, p_metadata) WITH ORDINALITY AS e(type, data, metadata, n)
        RETURNING position
    )
    SELECT max(position)
      INTO last_position
      FROM appended;
    RETURN last_position;
END
$$;
