-- Time-range queries over the log (exports with --since/--until, the analytics views
-- filtered by recorded_at) use a BRIN index on the recorded time.
--
-- BRIN fits an append-only log: rows are only ever added at the end of the table, in
-- nearly increasing recorded_at, so each range of 128 pages covers a narrow, barely
-- overlapping span of time. The index keeps one min/max pair per range: a few dozen
-- kilobytes for millions of events where a B-tree would take tens of megabytes, and
-- almost nothing to maintain on each append. autosummarize has autovacuum summarise
-- each range as it fills, so new events become indexable without a manual step.
-- (recorded_at is the writer's clock, taken just before the append lock, so it is not
-- strictly monotonic in position; the ranges overlap by those microseconds only.)
CREATE INDEX IF NOT EXISTS events_recorded_at_brin
    ON events
    USING brin (recorded_at)
    WITH (autosummarize = on);
