"""Rebuild the tasks read table from the log into a fresh table, catch up, and swap it in.

Phases, each resumable from the checkpoint row written with its output:
1. bulk: every stream up to a snapshot position, folded in stream order (projections.replay);
2. catch-up: events appended since, applied in log order, until a round finds few left;
3. swap: one short transaction that locks out appends, applies the last few events and
   renames the fresh table into place. Queries and commands wait for it, none fails.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

from events.evolve import evolve
from events.state import Task
from events.types import RecordedEvent
from projections.replay import (
    Folded,
    Progress,
    StreamKey,
    fold_log,
    log_after,
    log_snapshot,
    sequence,
)
from projections.rows import COLUMNS, task_from_row, task_row
from sql import queries

_SQL = queries("rebuild")
FRESH_TABLE = "tasks_rebuild"
SWAP_ATTEMPTS = 10
# lock_not_available (the swap's lock_timeout) and deadlock_detected: the swap retries.
_RETRY_SQLSTATES = {"55P03", "40P01"}
_DEPENDENT_OBJECTS = "2BP01"  # dependent_objects_still_exist: a view over tasks


class RebuildError(Exception):
    """A rebuild that cannot go ahead; the message says why and what to do."""


class Rebuilt(NamedTuple):
    snapshot_events: int  # events up to the snapshot position, folded in stream order
    caught_up: int  # events appended since, applied in log order by this run
    tasks: int  # rows of the new read table, counted just before the last few events
    resumed: bool


class _Checkpoint(NamedTuple):
    snapshot_position: int
    snapshot_events: int
    last_user_id: str | None
    last_stream_id: Any
    events_done: int
    bulk_done: bool
    caught_up_position: int | None


async def rebuild(
    reader: Any, writer: Any, progress: Progress, *, batch_size: int, restart: bool = False
) -> Rebuilt:
    """Rebuild the read table. `reader` streams the log; `writer` writes and swaps."""
    if not await writer.fetchval(_SQL["try_lock"]):
        raise RebuildError("another rebuild, or a verify, is running")
    try:
        checkpoint = None if restart else await _resumable(writer)
        resumed = checkpoint is not None
        if checkpoint is None:
            checkpoint = await _start(writer)
        # What this run has left to do: a resumed run's rate counts only its own events.
        progress.grow(max(checkpoint.snapshot_events - checkpoint.events_done, 0))
        if not checkpoint.bulk_done:
            await _bulk(reader, writer, checkpoint, progress, batch_size)
        position = checkpoint.caught_up_position
        caught = _CatchUp(writer, progress, batch_size, position or checkpoint.snapshot_position)
        await caught.run()
        await writer.execute(_SQL["analyze_fresh"])
        tasks = await writer.fetchval(_SQL["count_fresh"])
        await _swap(writer, caught)
        return Rebuilt(checkpoint.snapshot_events, caught.events, tasks, resumed)
    finally:
        await writer.execute(_SQL["unlock"])


async def _resumable(conn: Any) -> _Checkpoint | None:
    row = await conn.fetchrow(_SQL["get_checkpoint"])
    if row is None or not await conn.fetchval(_SQL["fresh_exists"]):
        return None
    return _Checkpoint(*row)


async def _start(conn: Any) -> _Checkpoint:
    async with conn.transaction():
        await conn.execute(_SQL["create_fresh"])
        position, events = await log_snapshot(conn)
        await conn.execute(_SQL["start_checkpoint"], position, events)
    return _Checkpoint(position, events, None, None, 0, False, None)


async def _bulk(
    reader: Any, writer: Any, checkpoint: _Checkpoint, progress: Progress, batch_size: int
) -> None:
    """Fold every stream up to the snapshot position; save the checkpoint with each batch."""
    after: StreamKey | None = None
    if checkpoint.last_user_id is not None:
        after = (checkpoint.last_user_id, checkpoint.last_stream_id)

    async def write(batch: Folded) -> None:
        async with writer.transaction():
            if batch.rows:
                await writer.copy_records_to_table(FRESH_TABLE, records=batch.rows, columns=COLUMNS)
            if batch.last_stream is not None:
                done = checkpoint.events_done + batch.events_complete
                await writer.execute(_SQL["save_bulk"], *batch.last_stream, done)
        progress.advance(batch.events_read)

    await fold_log(
        reader, write, upto=checkpoint.snapshot_position, after=after, batch_size=batch_size
    )
    await writer.execute(_SQL["finish_bulk"])


class _CatchUp:
    """Applies events appended after the snapshot, in log order, to the fresh table."""

    def __init__(self, conn: Any, progress: Progress, batch_size: int, position: int) -> None:
        self.conn, self.progress, self.batch_size = conn, progress, batch_size
        self.position = position  # every event up to here is in the fresh table
        self.events = 0

    async def run(self, *, in_swap: bool = False) -> None:
        """Apply batch by batch until a batch is not full: few events are left. In the swap
        the transaction has sequenced already, holding the sequencer's lock."""
        if not in_swap:
            await sequence(self.conn)  # what was committed meanwhile, numbered after the snapshot
        while True:
            events = await log_after(self.conn, self.position, self.batch_size, in_lock=in_swap)
            if events:
                self.progress.grow(len(events))
                async with self.conn.transaction():
                    await _apply(self.conn, events)
                    self.position = events[-1].position
                    await self.conn.execute(_SQL["save_catch_up"], self.position, len(events))
                self.events += len(events)
                self.progress.advance(len(events))
            if len(events) < self.batch_size:
                return


async def _apply(conn: Any, events: Sequence[RecordedEvent]) -> None:
    """Fold events in log order onto the fresh table's rows of their tasks."""
    keys = list(dict.fromkeys((e.user_id, e.stream_id) for e in events))
    users, ids = [k[0] for k in keys], [k[1] for k in keys]
    states: dict[StreamKey, Task | None] = dict.fromkeys(keys)
    for row in await conn.fetch(_SQL["fresh_rows"], users, ids):
        states[(row["user_id"], row["id"])] = task_from_row(row)
    for event in events:
        key = (event.user_id, event.stream_id)
        states[key] = evolve(states[key], event)
    await conn.execute(_SQL["delete_fresh_rows"], users, ids)
    live = [task_row(s) for s in states.values() if s is not None and not s.deleted]
    if live:
        await conn.copy_records_to_table(FRESH_TABLE, records=live, columns=COLUMNS)


async def _swap(conn: Any, caught: _CatchUp) -> None:
    """Apply the last events and rename the fresh table into place, in one transaction."""
    for _ in range(SWAP_ATTEMPTS):
        position, events = caught.position, caught.events
        try:
            async with conn.transaction():
                await conn.execute(_SQL["lock_for_swap"])
                await caught.run(in_swap=True)
                await _same_shape(conn)
                await conn.execute(_SQL["swap"])
            return
        except Exception as exc:
            sqlstate = getattr(exc, "sqlstate", None)
            if sqlstate == _DEPENDENT_OBJECTS:
                detail = getattr(exc, "detail", None) or str(exc)
                raise RebuildError(
                    f"the old table cannot be dropped ({detail}): drop what depends on it,"
                    " run `tasks rebuild` again (it resumes), then recreate it"
                ) from exc
            if sqlstate not in _RETRY_SQLSTATES:
                raise
            caught.position, caught.events = position, events  # rolled back with the rest
        await caught.run()  # what arrived while the lock was awaited, outside it
    raise RebuildError(
        "could not lock the tasks table for the swap: a long transaction holds it; "
        "run `tasks rebuild` again to resume"
    )


async def _same_shape(conn: Any) -> None:
    live = [r[0] for r in await conn.fetch(_SQL["table_shape"], "tasks")]
    fresh = [r[0] for r in await conn.fetch(_SQL["table_shape"], FRESH_TABLE)]
    if live != fresh:
        raise RebuildError(
            f"the read table ({'; '.join(sorted(set(live) - set(fresh)))}) and the fresh"
            f" table ({'; '.join(sorted(set(fresh) - set(live)))}) differ: bring"
            " sql/queries/rebuild.sql (create_fresh) in line with the migrations, then"
            " run `tasks rebuild --restart`"
        )
