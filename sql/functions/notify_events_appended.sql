-- The trigger function behind events_appended_notify (migrations/0010_events_notify.sql).
--
-- The notification carries no payload: it is only a wake-up. Each process has
-- one listening connection that tells its stream clients to re-read the log
-- from their own position, so nothing is ever taken from the notification
-- itself and a lost one costs at most the fallback poll interval.
-- One notification per statement (not per row), and PostgreSQL folds repeated
-- identical notifications of one transaction into one, so a command that
-- appends several events sends one. It is delivered at commit, which is when
-- the events become visible.
CREATE OR REPLACE FUNCTION notify_events_appended()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('tasks_events', '');
    RETURN NULL;
END
$$;
