-- sequence_log: what a caller outside a transaction runs to sequence (CALL sequence_log(...)):
-- every committed pending event given its position, and made visible to readers of the log.
--
-- On one PostgreSQL server that is sequence_events alone: a move commits whole, so its
-- positions are visible at its commit. On Citus it is two transactions
-- (citus/functions/sequence_log.sql); a procedure, so callers make one round trip either way.
-- moved: as sequence_events returns it (-1: p_wait false and another sequencer at work).
-- needs: functions/sequence_events.sql
CREATE OR REPLACE PROCEDURE sequence_log(
    p_wait      boolean,
    INOUT moved integer DEFAULT NULL,
    p_limit     integer DEFAULT 10000
)
LANGUAGE plpgsql
AS $$
BEGIN
    moved := sequence_events(p_wait, p_limit);
END
$$;
