-- export_selection: the events `tasks events export` writes, chosen by settings local to
-- the export's transaction (tasks.export_from / _to: a position range, _since / _until:
-- a recorded_at range, _type and _user: '' for any). COPY cannot take bind parameters,
-- so the export binds its filters with set_config($1, ...) and every COPY statement is
-- constant text over this one view: no value is ever formatted into SQL.
-- Each setting is read once per statement (an uncorrelated subquery, an InitPlan), so
-- the position and time ranges reach the position index and the BRIN index.
-- needs: views/analytics_events.sql
CREATE OR REPLACE VIEW export_selection AS
SELECT *
  FROM analytics.events
 WHERE position > (SELECT current_setting('tasks.export_from')::bigint)
   AND position <= (SELECT current_setting('tasks.export_to')::bigint)
   AND recorded_at >= (SELECT current_setting('tasks.export_since')::timestamptz)
   AND recorded_at < (SELECT current_setting('tasks.export_until')::timestamptz)
   AND ((SELECT current_setting('tasks.export_type')) = ''
        OR type = (SELECT current_setting('tasks.export_type')))
   AND ((SELECT current_setting('tasks.export_user')) = ''
        OR user_id = (SELECT current_setting('tasks.export_user')));
