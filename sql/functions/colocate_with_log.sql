-- colocate_with_log: lay a new per-user table out as the log is. On one PostgreSQL server
-- there is nothing to do; on Citus (citus/functions/colocate_with_log.sql) the table is
-- distributed by user_id and colocated with events, as `tasks` is: a rebuild's fresh
-- table must be, to take the read table's place.
CREATE OR REPLACE FUNCTION colocate_with_log(p_table regclass)
RETURNS void
LANGUAGE sql
AS $$
SELECT
$$;
