-- Appends without a global lock: a command's events wait in pending_events, and the
-- sequencer (functions/sequence_events.sql) gives committed events their positions.
--
-- Before this, every append took one global lock and held it until its commit had
-- flushed, so that positions became visible in position order; and a NOTIFY trigger on
-- every append serialised commits a second time (PostgreSQL holds one lock on its
-- notification queue from a notifying transaction's commit until it ends). On storage
-- that takes 1 ms to flush, the two capped a whole deployment at ~600 commands/s.
--
-- Now a command writes its read row and inserts its events into pending_events, in one
-- statement, waiting for nothing but its own task's row. The sequencer, one at a time
-- under a lock only sequencers take, moves committed pending events into the log,
-- numbered after the last position given (log_head): each move commits whole, and moves
-- commit in lock order, so positions become visible in ascending order and a reader
-- paging by position never skips one. Positions are dense: 1, 2, 3, ...
--
-- txid: the appending transaction's id (as bigint: xid8 has no max() before PostgreSQL
-- 16), which orders a stream's events (a command writes after the previous one committed).
CREATE TABLE IF NOT EXISTS pending_events (
    txid        bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    user_id     text        NOT NULL,
    stream_id   uuid        NOT NULL,
    version     integer     NOT NULL CHECK (version > 0),
    type        text        NOT NULL,
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, stream_id, version)
) WITH (
    -- A queue: each row is deleted moments after it is inserted. Vacuumed often, so a
    -- sequencer's scan stays as short as the queue.
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);

-- The last position given: one row, written only by a sequencer, under its lock.
CREATE TABLE IF NOT EXISTS log_head (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    position bigint  NOT NULL
);

INSERT INTO log_head (position)
SELECT coalesce(max(position), 0)
  FROM events
    ON CONFLICT (one) DO NOTHING;

-- Positions are the sequencer's to give, no longer the insert's.
ALTER TABLE events
      ALTER COLUMN position DROP IDENTITY IF EXISTS;
