"""The asyncpg pool, and which of the driver's errors mean the database is gone or too slow."""

import asyncio
import bisect
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

from app.settings import Settings

T = TypeVar("T")
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


# Upper bounds (seconds) of the pool-wait histogram /metrics exports.
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _encode_json(value: Any) -> str:
    return _encode(value).decode()


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb in and out as Python objects, through msgspec."""
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_encode_json, decoder=_decode, format="text"
    )


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Skip the pool's reset query on release: our code leaves no session state behind
    (no LISTEN, no session advisory lock, no SET outside a transaction) and an open
    transaction is still rolled back by asyncpg itself."""


# A pooled connection the server has closed (restart, pg_terminate_backend, a cut network)
# is only found out when used. asyncpg sometimes reports that as an InternalClientError and
# leaves the connection stuck mid-operation (MagicStack/asyncpg#1069).
BROKEN_CONNECTION: tuple[type[Exception], ...] = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
)


class Pool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no type hints
    """asyncpg's pool, with three guards on every `pool.acquire()` (ours, and any added later).

    Requests get connections first come, first served (FifoGate), not in asyncpg's order.
    It gives up after the configured time unless told otherwise: with every connection busy
    or the database stuck, a request gets 503 instead of waiting forever. And a connection
    that broke while in use is closed, not handed to the next request: the pool's reset
    query, which would catch that, is skipped for speed (see _no_reset).
    Only `async with pool.acquire() as conn` is supported (not `await pool.acquire()`).
    """

    __slots__ = ("acquire_timeout", "command_timeout", "gate")

    def acquire(self, *, timeout: float | None = None) -> Any:
        return _Acquired(self, self.acquire_timeout if timeout is None else timeout)


class _Acquired:
    """A slot from the pool's gate, then asyncpg's acquire context in it; the connection is
    closed if it broke inside the block, and the slot goes to the next waiter after."""

    __slots__ = ("_conn", "_context", "_pool", "_timeout")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._context: Any = None
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        pool, timeout = self._pool, self._timeout
        waited = await pool.gate.acquire(timeout)
        try:
            # Past the gate a connection is free (at most max_size are out); the rest of the
            # time is for opening one if it has to be (re)connected.
            rest = None if timeout is None else max(timeout - waited, 0.001)
            self._context = asyncpg.Pool.acquire(pool, timeout=rest)
            self._conn = await self._context.__aenter__()
        except BaseException:
            pool.gate.release()
            raise
        return self._conn

    async def __aexit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        try:
            # A connection cancelled mid-query (a request cut short), or whose query the client
            # gave up on (command_timeout), is closed too: asyncpg may still wait for the
            # server to confirm the cancel, and the pool's close() or release() for it.
            if isinstance(exc, (*BROKEN_CONNECTION, asyncio.CancelledError, TimeoutError)) and (
                self._conn
            ):
                self._conn.terminate()
            await self._context.__aexit__(kind, exc, tb)
        finally:
            self._pool.gate.release()


class FifoGate:
    """At most `size` holders at a time, and waiters served strictly in arrival order.

    asyncpg's own queue is not first come, first served: a released connection goes back
    into an asyncio.Queue and the waiter woken for it only runs on a later loop turn, so a
    request arriving in between (which finds the queue non-empty) takes it, and the woken
    waiter queues again, at the back. Under steady contention a request can lose that race
    many times (acquires of 600 ms measured behind a pool of 10 at 32 connections). Here a
    released slot is handed straight to the oldest waiter's future, so nobody can overtake it.

    It also keeps the figures /metrics exports: acquires, how many had to wait, the time
    spent waiting (total, and a histogram over WAIT_BUCKETS), and the longest wait.
    """

    __slots__ = (
        "_free",
        "_waiters",
        "acquires",
        "wait_counts",
        "wait_max",
        "wait_seconds",
        "waits",
    )

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.acquires = 0
        self.waits = 0
        self.wait_seconds = 0.0
        self.wait_counts = [0] * (len(WAIT_BUCKETS) + 1)  # the last: over the largest bucket
        self.wait_max = 0.0

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiters if not f.done())

    async def acquire(self, limit: float | None) -> float:
        """Take a slot, waiting up to `limit` seconds (TimeoutError after); returns how long
        it waited, so the caller can give the rest of its time to the connection itself."""
        self.acquires += 1
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return 0.0
        loop = asyncio.get_running_loop()
        started = loop.time()
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append(future)
        timer = None if limit is None else loop.call_later(limit, _expire, future)
        try:
            await future
        except BaseException:
            # Timed out or cancelled. If the slot was handed over meanwhile, pass it on.
            if future.done() and not future.cancelled() and future.exception() is None:
                self.release()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            waited = loop.time() - started
            self._record(waited)
        return waited

    def release(self) -> None:
        """Give a slot back: to the oldest waiter still waiting, else to the free count."""
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(None)
                return
        self._free += 1

    def _record(self, waited: float) -> None:
        self.waits += 1
        self.wait_seconds += waited
        self.wait_max = max(self.wait_max, waited)
        self.wait_counts[bisect.bisect_left(WAIT_BUCKETS, waited)] += 1


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


COMMAND_TIMEOUT_MARGIN_SECONDS = 1.0
# The server probes an idle client after 10 s, every 5 s, 3 times: a client gone without a
# word (a partition, a killed host) stops holding a backend and its locks after ~25 s, not
# the kernel's 2 hours. Ignored on Unix sockets (the embedded server).
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}


async def create_pool(dsn: str, settings: Settings) -> Pool:
    server_settings = {"application_name": settings.db_application_name, **KEEPALIVES}
    command_timeout = None
    if settings.statement_timeout_ms:
        # Bounds lock waits too: a command stuck behind a lock fails (503) instead of hanging.
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
        # The server's timeout needs the server: over a network that drops packets (a
        # partition) only the client's own timeout ends the wait. A little later than the
        # server's, so a slow query still ends as the server's QueryCanceledError.
        command_timeout = settings.statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_SECONDS
    pool = Pool(
        dsn,
        min_size=min(settings.pool_min_size, settings.pool_max_size),
        max_size=settings.pool_max_size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        setup=None,
        init=init_connection,
        reset=_no_reset,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        timeout=settings.pool_acquire_timeout,  # connecting, so a dead host cannot hang requests
        server_settings=server_settings,
        command_timeout=command_timeout,
    )
    pool.acquire_timeout = settings.pool_acquire_timeout
    pool.command_timeout = command_timeout  # the event hub's own connection uses it too
    pool.gate = FifoGate(settings.pool_max_size)
    await pool
    return pool


async def read(pool: asyncpg.Pool, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run a read; once more on another connection if the first was broken. Reads only:
    a command cut off mid-way may have committed, so it is never silently repeated."""
    try:
        async with pool.acquire() as conn:
            return await query(conn)
    except BROKEN_CONNECTION:
        async with pool.acquire() as conn:
            return await query(conn)


# What asyncpg raises when the server is down, restarting, too slow, or the connection is cut.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection cut mid-operation, see BROKEN_CONNECTION
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.DeadlockDetectedError,
)

# Of those, the ones that mean "too slow": statement_timeout (QueryCanceledError, a kind of
# OperatorInterventionError) and the pool's acquire timeout.
DATABASE_TOO_SLOW: tuple[type[Exception], ...] = (
    TimeoutError,
    asyncpg.QueryCanceledError,
    asyncpg.exceptions.DeadlockDetectedError,
)
