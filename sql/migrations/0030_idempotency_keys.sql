-- Idempotency keys: the first response to a command sent with an Idempotency-Key,
-- replayed to every retry with the same key while the key is fresh.
--
-- A key is recorded by the same statement that appends the command's events
-- (functions/append_task_events.sql), so it exists exactly when its effect does: a crash
-- leaves neither or both. The key is (user_id, key): keys are per user. A second
-- request with a fresh key waits on this key's unique index until the first
-- commits, then fails with unique_violation and replays the stored response.
-- Expired keys are overwritten on reuse and purged by the service periodically.
--
-- Rewritten when its functions moved to sql/functions/ (the schema is the same):
-- replaces: 8f8f3ec4a546e79587477cee8a4b0c55155be1ebadee6100f4135204ebb57d66
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
