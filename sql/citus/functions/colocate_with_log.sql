-- colocate_with_log on a Citus coordinator (functions/colocate_with_log.sql says what for):
-- distributed by user_id, colocated with events, so its rows of a user sit in the shard
-- group of that user's events and read rows.
CREATE OR REPLACE FUNCTION colocate_with_log(p_table regclass)
RETURNS void
LANGUAGE sql
AS $$
SELECT create_distributed_table(p_table, 'user_id', colocate_with => 'events')
$$;
