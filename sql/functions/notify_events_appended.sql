-- The trigger function behind events_appended_notify (migrations/0010_events_notify.sql).
--
-- The notification carries no payload: it is only a wake-up. Each process has
-- one listening connection that tells its stream clients to re-read the log
-- from their own position, so nothing is ever taken from the notification
-- itself and a lost one costs at most the fallback poll interval.
-- One notification per statement (not per row): events are inserted into the log only
-- by the sequencer (functions/sequence_events.sql), so it is one per move, delivered at
-- the move's commit, which is when its events become visible. Commands do not notify: a
-- notifying transaction holds the notification queue's lock through its commit, which
-- would make every command wait for the one before it.
CREATE OR REPLACE FUNCTION notify_events_appended()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('tasks_events', '');
    RETURN NULL;
END
$$;
