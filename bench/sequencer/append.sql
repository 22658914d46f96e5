-- What a create sends today: append_task_events with the task as JSON (sql/functions/).
\set u random(1, 1000)
SELECT append_task_events('w' || :u,
       jsonb_build_object('id', gen_random_uuid(), 'user_id', 'w' || :u, 'title', 'bench task',
                          'description', 'created by pgbench', 'completed', false,
                          'created_at', now(), 'updated_at', now(), 'version', 1, 'deleted', false),
       0, ARRAY['TaskCreated'],
       ARRAY['{"title": "bench task", "description": "created by pgbench", "completed": false}'::jsonb],
       ARRAY['{"request_id": "x", "actor": "w", "schema_version": 1}'::jsonb], now());
