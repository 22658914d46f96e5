-- A time as the API writes it: RFC 3339 in UTC, always six digits of microseconds
-- (2026-11-26T16:00:00.123456Z), as app/api/schemas.py rfc3339 does in Python. Used by the
-- list's JSON and the NDJSON export, which PostgreSQL writes itself.
-- LANGUAGE sql and STABLE (to_char is), so the planner inlines it: a call costs nothing.
CREATE OR REPLACE FUNCTION rfc3339(p_at timestamptz)
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;
