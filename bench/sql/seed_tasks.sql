-- Seed a FRESH database of our service (after `tasks migrate`) with the data the shared references use:
-- 100,000 tasks over 5,000 users u1..u5000 (20 each). Task n has id 00000000-0000-4000-8000-<n as 12 hex>,
-- owner 'u' || ((n-1) % 5000 + 1), created n seconds ago, so the wrk scripts address tasks without a lookup
-- (same rows as shared/bench/sql/es_reset.sql and peer_reset.sql).
--
-- Log and read table agree: one TaskCreated event per task (version 1, data as the API defines it,
-- metadata as the service writes it) and the read row the projector would make of it (version 1).
-- Events are inserted oldest first, so on a fresh database positions are 1..100000 in created_at order.
--
-- psql variable seed_description: 'text' (default, as the references: 'seed description n') or 'null'.
\if :{?seed_description}
\else
\set seed_description text
\endif
INSERT INTO tasks (user_id, id, title, description, completed, created_at, updated_at, version)
SELECT 'u' || ((n - 1) % 5000 + 1),
       ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'seed task ' || n,
       CASE WHEN :'seed_description' = 'null' THEN NULL ELSE 'seed description ' || n END,
       false,
       now() - make_interval(secs => n), now() - make_interval(secs => n), 1
  FROM generate_series(1, 100000) AS n;
INSERT INTO events (position, user_id, stream_id, version, type, data, metadata, recorded_at)
SELECT row_number() OVER (ORDER BY created_at, id), user_id, id, 1, 'TaskCreated',
       jsonb_build_object('title', title, 'description', description, 'completed', false),
       jsonb_build_object('request_id', 'seed', 'actor', user_id, 'schema_version', 1),
       created_at
  FROM tasks;
UPDATE log_head
   SET position = (SELECT max(position) FROM events),
       visible = (SELECT max(position) FROM events);
VACUUM ANALYZE events;
VACUUM ANALYZE tasks;
CHECKPOINT;
