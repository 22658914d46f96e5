-- append_task_events takes the task whole, as JSON (functions/append_task_events.sql),
-- instead of one parameter per column: a new column no longer changes its signature.
-- The new function is defined first (the line below), then the signature it replaces is
-- dropped, so no moment of the migration lacks one; two overloads would make calls that
-- leave the defaults out ambiguous.
-- needs: functions/append_task_events.sql
DROP FUNCTION IF EXISTS append_task_events(
    text, uuid, integer, text[], jsonb[], jsonb[], timestamptz, text, text, boolean, timestamptz,
    boolean, text, bytea, integer, jsonb, bytea, double precision
);
