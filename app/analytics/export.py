"""`tasks events export`: stream the event log out as NDJSON, CSV or Parquet, in log order.

The log is cut into batches of consecutive positions. A few connections share one snapshot
(pg_export_snapshot), so the export is one consistent view of the log however long it runs;
each produces whole batches with COPY (CSV and NDJSON are formatted by PostgreSQL) or a
fetch (Parquet), and batches are written strictly in order. At most one batch per
connection is held in memory.
"""

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Literal

import asyncpg

from app.storage import event_store
from sql import queries

_SQL = queries("export")
_SNAPSHOT = re.compile(r"[0-9A-F]+-[0-9A-F]+(?:-[0-9]+)?")

Format = Literal["ndjson", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("ndjson", "csv", "parquet")
# Events per batch: about 35 MB of NDJSON; Parquet holds decoded rows (some 1.5 kB of
# Python objects each) until they become a row group, so its batches are smaller.
BATCH_SIZES: dict[Format, int] = {"ndjson": 100_000, "csv": 100_000, "parquet": 25_000}


@dataclass(frozen=True, slots=True)
class Filters:
    after: int = 0
    since: datetime | None = None
    until: datetime | None = None
    type: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    index: int
    after: int  # positions (after, last]
    last: int


async def _begin(
    conn: asyncpg.Connection, filters: Filters, upto: int, snapshot: str | None
) -> None:
    await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    if snapshot is not None:
        if not _SNAPSHOT.fullmatch(snapshot):
            raise ValueError(f"unexpected snapshot id {snapshot!r}")
        # A snapshot id comes from the server and cannot be a bind parameter here.
        await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    # CSV and Parquet times in UTC, whatever the server's or the role's time zone.
    await conn.execute("SET LOCAL TimeZone = 'UTC'")
    f = filters
    await conn.execute(_SQL["bind"], f.after, upto, f.since, f.until, f.type, f.user_id)


@asynccontextmanager
async def _connections(dsn: str, filters: Filters, count: int) -> AsyncIterator[list[Any]]:
    """Connections in one read-only snapshot of the log, the filters bound on each."""
    async with AsyncExitStack() as stack:
        conns: list[Any] = []
        for _ in range(count):
            conn = await asyncpg.connect(dsn, server_settings={"application_name": "tasks export"})
            stack.push_async_callback(conn.close)
            conns.append(conn)
        # Every event acknowledged before the export started gets its position, so it is in;
        # the export ends at the log's visible end (on Citus a move still committing on the
        # workers may show part of itself past it: sql/migrations/0053_log_visible.sql).
        await event_store.sequence(conns[0])
        upto = await event_store.head(conns[0])
        await _begin(conns[0], filters, upto, None)
        snapshot = await conns[0].fetchval("SELECT pg_export_snapshot()") if count > 1 else None
        for conn in conns[1:]:
            await _begin(conn, filters, upto, snapshot)
        yield conns


def batches(first: int, last: int, size: int) -> list[Batch]:
    """Consecutive position ranges covering [first, last]."""
    return [
        Batch(i, after, min(after + size, last))
        for i, after in enumerate(range(first - 1, last, size))
    ]


async def _copy(conn: asyncpg.Connection, batch: Batch, fmt: Format) -> tuple[int, list[bytes]]:
    """One batch through COPY: (events, the formatted bytes in chunks)."""
    await conn.execute(_SQL["narrow"], batch.after, batch.last)
    chunks: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        chunks.append(chunk)

    if fmt == "ndjson":
        # CSV with a quote and a delimiter that JSON text never holds raw: no quoting, no
        # escaping, each line exactly as built (COPY's text format would double backslashes).
        status = await conn.copy_from_query(
            _SQL["ndjson"], output=keep, format="csv", quote="\x01", delimiter="\x02"
        )
    else:
        status = await conn.copy_from_query(
            _SQL["columns"], output=keep, format="csv", header=batch.index == 0
        )
    return int(status.split()[-1]), chunks


async def _fetch(conn: asyncpg.Connection, batch: Batch) -> tuple[int, list[Any]]:
    await conn.execute(_SQL["narrow"], batch.after, batch.last)
    rows = await conn.fetch(_SQL["columns"])
    return len(rows), rows


Produce = Callable[[asyncpg.Connection, Batch], Awaitable[tuple[int, Any]]]
Consume = Callable[[Any], object]


async def _pipeline(
    conns: list[Any],
    work: list[Batch],
    produce: Produce,
    consume: Consume,
    done: Callable[[int], None],
) -> int:
    """Run batches on free connections, hand their results over strictly in batch order."""
    free: asyncio.Queue[Any] = asyncio.Queue()
    for conn in conns:
        free.put_nowait(conn)

    async def run(batch: Batch) -> tuple[int, Any]:
        conn = await free.get()
        try:
            return await produce(conn, batch)
        finally:
            free.put_nowait(conn)

    pending: deque[asyncio.Task[tuple[int, Any]]] = deque()
    written = 0
    try:
        for batch in work:
            if len(pending) == len(conns):
                written += _hand_over(await pending.popleft(), consume, done)
            pending.append(asyncio.create_task(run(batch)))
        while pending:
            written += _hand_over(await pending.popleft(), consume, done)
    finally:
        for task in pending:
            task.cancel()
    return written


def _hand_over(result: tuple[int, Any], consume: Consume, done: Callable[[int], object]) -> int:
    count, payload = result
    consume(payload)
    done(count)
    return count


async def export(
    dsn: str,
    fmt: Format,
    filters: Filters,
    out: BinaryIO,
    *,
    started: Callable[[int], None] = lambda total: None,
    done: Callable[[int], None] = lambda count: None,
    connections: int = 2,
    batch_size: int | None = None,
) -> int:
    """Write the selected events to out in log order; return how many were written.

    started(total) is called once the number of selected events is known, done(n) after
    each batch is written.
    """
    async with _connections(dsn, filters, max(1, connections)) as conns:
        total, first, last = await conns[0].fetchrow(_SQL["bounds"])
        started(total)
        for conn in conns:
            await conn.execute(_SQL["by_position"])
        work = batches(first, last, batch_size or BATCH_SIZES[fmt]) if total else []
        if fmt == "parquet":
            from app.analytics.parquet import ParquetSink

            with ParquetSink(out) as sink:
                return await _pipeline(conns, work, _fetch, sink.write, done)
        if not work and fmt == "csv":
            work = [Batch(0, 0, 0)]  # an empty export still has its header row
        return await _pipeline(conns, work, lambda c, b: _copy(c, b, fmt), out.writelines, done)
