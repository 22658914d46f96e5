-- The log's visible end: readers of the log in position order read up to log_head.visible,
-- never past it.
--
-- On one PostgreSQL server a sequencer's move commits whole, so the visible end is the last
-- position given (sequence_events sets both in the move). On Citus a move commits on each
-- worker in turn (two-phase commit), and a reader could see one worker's part of it before
-- another's, then page past the rest: there the sequencer advances `visible` in a second
-- transaction, once the move has committed everywhere (citus/functions/sequence_log.sql,
-- docs/scaling.md).
-- A default, so 0052's insert of the row still runs again; the log given so far is visible.
ALTER TABLE log_head
  ADD COLUMN IF NOT EXISTS visible bigint NOT NULL DEFAULT 0;

UPDATE log_head
   SET visible = position
 WHERE visible = 0;
