"""Replaying the log: read it in large batches and fold it with evolve, one task at a time.

Shared by rebuild and verify. The log is read in (user_id, stream_id, version) order
along its primary key, so each task's events arrive together: only the task being
folded is held in memory, however long the log, and memory is bounded by the batch
size. Reading, folding and writing overlap: the next batch is fetched and the last one
written while this one is folded.
"""

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from events.evolve import evolve
from events.state import Task
from events.types import RecordedEvent
from projections.rows import Row, recorded, task_row
from sql import queries

_SQL = queries("replay")

StreamKey = tuple[str, UUID]
# Before every event of the log: user ids are never empty.
LOG_START: tuple[str, UUID, int] = ("", UUID(int=0), 0)
# Events folded between two chances for the reader and writer to move their data.
_SLICE = 5_000


class Progress(Protocol):
    """Told how many events there are to fold (the total grows as catch-up finds more)."""

    def grow(self, events: int) -> None: ...
    def advance(self, events: int) -> None: ...


class Folded(NamedTuple):
    """One batch's output: the live tasks completed in it, and how far the fold got."""

    rows: list[Row]
    last_stream: StreamKey | None  # every stream up to this one is complete
    events_read: int  # events in the batch
    events_complete: int  # events of the complete streams so far, over the whole fold


class StreamFold:
    """Folds events that arrive in (user_id, stream_id, version) order, one task at a time."""

    def __init__(self) -> None:
        self.user_id = ""
        self.stream_id: UUID | None = None
        self.state: Task | None = None
        self.pending = 0  # events of the task being folded
        self.last_stream: StreamKey | None = None
        self.events_complete = 0

    def feed(self, rows: Sequence[Sequence[Any]], out: list[Row]) -> None:
        """Fold rows; append each task that is complete and live to out."""
        state = self.state
        for row in rows:
            event = recorded(row)
            if event.stream_id != self.stream_id or event.user_id != self.user_id:
                self.state = state
                self._close(out)
                self.user_id, self.stream_id, state = event.user_id, event.stream_id, None
            state = evolve(state, event)
            self.pending += 1
        self.state = state

    def finish(self, out: list[Row]) -> None:
        """The log has ended: the task being folded is complete too."""
        self._close(out)

    def _close(self, out: list[Row]) -> None:
        if self.stream_id is None:
            return
        if self.state is not None and not self.state.deleted:
            out.append(task_row(self.state))
        self.last_stream = (self.user_id, self.stream_id)
        self.events_complete += self.pending
        self.state, self.stream_id, self.pending = None, None, 0


Sink = Callable[[Folded], Awaitable[None]]


async def fold_log(
    reader: Any,
    sink: Sink,
    *,
    upto: int,
    after: StreamKey | None = None,
    batch_size: int = 50_000,
    pending: bool = False,
) -> None:
    """Fold every stream after `after` (in key order) from the log up to position `upto`,
    and with `pending` the events still waiting for their positions too.

    `sink` gets the live tasks batch by batch, in order, while the next batch is folded.
    """
    start = LOG_START if after is None else (*after, 2**31 - 1)
    batches: asyncio.Queue[list[Any] | None] = asyncio.Queue(maxsize=1)
    folded: asyncio.Queue[Folded | None] = asyncio.Queue(maxsize=1)
    with _collector_paused():
        try:
            async with asyncio.TaskGroup() as group:
                query = _SQL["log_and_pending_by_stream" if pending else "log_by_stream"]
                group.create_task(_read(reader, query, batches, start, upto, batch_size))
                group.create_task(_drain(folded, sink))
                await _fold(batches, folded)
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the first failure; the rest follow from it


async def _fold(
    batches: "asyncio.Queue[list[Any] | None]", folded: "asyncio.Queue[Folded | None]"
) -> None:
    fold = StreamFold()
    while (rows := await batches.get()) is not None:
        out: list[Row] = []
        for at in range(0, len(rows), _SLICE):
            fold.feed(rows[at : at + _SLICE], out)
            await asyncio.sleep(0)  # let the reader drain its socket meanwhile
        await folded.put(Folded(out, fold.last_stream, len(rows), fold.events_complete))
    out = []
    fold.finish(out)
    await folded.put(Folded(out, fold.last_stream, 0, fold.events_complete))
    await folded.put(None)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while folding: the fold makes no cycles (reference
    counting frees each batch), and the collector's passes over the millions of objects
    a batch allocates took more time than the fold itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _read(
    reader: Any,
    query: str,
    batches: "asyncio.Queue[list[Any] | None]",
    start: tuple[str, UUID, int],
    upto: int,
    batch_size: int,
) -> None:
    key = start
    while True:
        rows = await reader.fetch(query, *key, upto, batch_size)
        if rows:
            await batches.put(rows)
        if len(rows) < batch_size:
            await batches.put(None)
            return
        last = rows[-1]
        key = (last[3], last[1], last[2])


async def _drain(folded: "asyncio.Queue[Folded | None]", sink: Sink) -> None:
    while (batch := await folded.get()) is not None:
        await sink(batch)


async def log_snapshot(conn: Any) -> tuple[int, int]:
    """(last position, number of events) of the log as this connection sees it."""
    row = await conn.fetchrow(_SQL["log_snapshot"])
    return int(row["position"]), int(row["events"])


async def pending(conn: Any) -> int:
    """How many committed events wait for their positions, as this connection sees it."""
    return int(await conn.fetchval(_SQL["pending"]))


async def sequence(conn: Any) -> None:
    """Give every committed event its position and make it visible (waiting for a sequencer
    at work). Outside a transaction."""
    await conn.execute(_SQL["sequence"])


async def log_after(
    conn: Any, position: int, limit: int, *, in_lock: bool = False
) -> list[RecordedEvent]:
    """Up to `limit` events after a position, in log order, up to the visible end (with
    `in_lock`, the caller's transaction holds the sequencer's lock: to the last position)."""
    rows = await conn.fetch(_SQL["log_after"], position, limit, in_lock)
    return [recorded(r) for r in rows]
