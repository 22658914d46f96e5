-- A realistic log for the rebuild benchmark, generated in the server, and its read table.
--
-- Many users; tasks that are created, then updated (title, description or both) and
-- toggled a few times (a skewed count: most tasks change little, a few a lot), and some
-- deleted. Each task's events are spaced in time from a random start, and the log is
-- written in time order, so streams interleave in the log as they do in real use.
-- Settings: es.tasks (tasks generated), es.users, es.events (the log is cut to this
-- many events; a time cut leaves every stream a valid prefix of itself).
CREATE TEMP TABLE es_tasks AS
SELECT n,
       'user-' || lpad(floor(random() * current_setting('es.users')::int)::text, 6, '0') AS user_id,
       gen_random_uuid() AS stream_id,
       timestamptz '2026-01-01 00:00:00+00' + random() * interval '90 days' AS born,
       interval '1 minute' * (1 + random() * 4000) AS gap,
       floor(random() * random() * 9)::int AS changes,
       random() < 0.15 AS deleted,
       random() < 0.3 AS described
  FROM generate_series(1, current_setting('es.tasks')::int) AS n;

-- One row per change: its kind, and for toggles the running parity of completion.
CREATE TEMP TABLE es_changes AS
SELECT n,
       i,
       kind,
       count(*) FILTER (WHERE kind = 'toggle') OVER (PARTITION BY n ORDER BY i) % 2 = 1 AS completed
  FROM (
        SELECT n,
               i,
               CASE
                   WHEN r < 0.40 THEN 'title'
                   WHEN r < 0.55 THEN 'description'
                   WHEN r < 0.65 THEN 'both'
                   ELSE 'toggle'
               END AS kind
          FROM (
                SELECT t.n, c.i, random() AS r
                  FROM es_tasks AS t
                 CROSS JOIN LATERAL generate_series(1, t.changes) AS c(i)
               ) AS draws
       ) AS k;

CREATE TEMP TABLE es_events AS
SELECT t.user_id, t.stream_id, 1 AS version, 'TaskCreated' AS type,
       jsonb_build_object(
           'title', 'Task ' || t.n || ': ' || left(md5(t.n::text), 10 + t.n % 20),
           'description', CASE WHEN t.described THEN 'Details for task ' || t.n || ', ' || md5(t.stream_id::text) END,
           'completed', false) AS data,
       t.born AS recorded_at
  FROM es_tasks AS t
UNION ALL
SELECT t.user_id, t.stream_id, c.i + 1,
       CASE c.kind WHEN 'toggle' THEN 'TaskToggled' ELSE 'TaskUpdated' END,
       CASE c.kind
           WHEN 'title' THEN jsonb_build_object('title', 'Task ' || t.n || ' rev ' || c.i)
           WHEN 'description' THEN jsonb_build_object(
               'description', CASE WHEN c.i % 4 = 0 THEN NULL ELSE 'Revised details ' || c.i || ' of task ' || t.n END)
           WHEN 'both' THEN jsonb_build_object('title', 'Task ' || t.n || ' v' || c.i,
                                               'description', 'Both changed at ' || c.i)
           ELSE jsonb_build_object('completed', c.completed)
       END,
       t.born + t.gap * c.i
  FROM es_tasks AS t
  JOIN es_changes AS c
    ON c.n = t.n
UNION ALL
SELECT t.user_id, t.stream_id, t.changes + 2, 'TaskDeleted', '{}'::jsonb, t.born + t.gap * (t.changes + 1)
  FROM es_tasks AS t
 WHERE t.deleted;

-- The log, in time order, numbered after the last position given, under the lock the
-- sequencer takes (sql/functions/sequence_events.sql): nothing else gives positions meanwhile.
SELECT pg_advisory_xact_lock(tasks_lock_key('sequence'));

INSERT INTO events (position, user_id, stream_id, version, type, data, metadata, recorded_at)
SELECT (SELECT position FROM log_head) + row_number() OVER (ORDER BY recorded_at, stream_id, version),
       user_id, stream_id, version, type, data,
       jsonb_build_object('request_id', gen_random_uuid(), 'actor', user_id, 'schema_version', 1),
       recorded_at
  FROM (SELECT *
          FROM es_events
         ORDER BY recorded_at, stream_id, version
         LIMIT current_setting('es.events')::int) AS chosen;

UPDATE log_head
   SET position = (SELECT max(position) FROM events),
       visible = (SELECT max(position) FROM events);

-- The read table, folded here in SQL independently of the Python projector, so that
-- `tasks verify` on a fresh bench database also checks the two folds agree.
INSERT INTO tasks (user_id, id, title, description, completed, created_at, updated_at, version)
SELECT user_id,
       stream_id,
       (array_agg(data ->> 'title' ORDER BY version DESC) FILTER (WHERE data ? 'title'))[1],
       (array_agg(data ->> 'description' ORDER BY version DESC) FILTER (WHERE data ? 'description'))[1],
       (array_agg((data ->> 'completed')::boolean ORDER BY version DESC) FILTER (WHERE data ? 'completed'))[1],
       min(recorded_at),
       max(recorded_at),
       max(version)
  FROM events
 GROUP BY user_id, stream_id
HAVING bool_and(type <> 'TaskDeleted');

DROP TABLE es_events, es_changes, es_tasks;
