-- The CRUD service's tasks table (tests/fixtures/crud/tasks.sql) filled with :rows rows:
-- 5,000 users u1..u5000, every other task described, every fourth completed, created over
-- the year before 2026-01-01 and updated a day later. Run with psql -v rows=100000.
INSERT INTO tasks (title, description, id, user_id, completed, created_at, updated_at)
SELECT 'old task ' || n,
       CASE WHEN n % 2 = 0 THEN 'from the CRUD service, #' || n END,
       ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'u' || ((n - 1) % 5000 + 1),
       n % 4 = 1,
       timestamptz '2025-01-01 00:00:00Z' + n * interval '313 ms',
       timestamptz '2025-01-02 00:00:00Z' + n * interval '313 ms'
  FROM generate_series(1, :rows) AS n;
