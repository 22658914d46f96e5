"""The asyncpg pool, and which of the driver's errors mean the database is gone or too slow."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

from app.settings import Settings

T = TypeVar("T")
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


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
    """asyncpg's pool, with two guards on every `pool.acquire()` (ours, and any added later).

    It gives up after the configured time unless told otherwise: with every connection busy
    or the database stuck, a request gets 503 instead of waiting forever. And a connection
    that broke while in use is closed, not handed to the next request: the pool's reset
    query, which would catch that, is skipped for speed (see _no_reset).
    """

    __slots__ = ("acquire_timeout",)

    def acquire(self, *, timeout: float | None = None) -> Any:
        limit = self.acquire_timeout if timeout is None else timeout
        return _Acquired(super().acquire(timeout=limit))


class _Acquired:
    """asyncpg's acquire context, closing the connection if it broke inside the block."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._context.__aenter__()
        return self._conn

    async def __aexit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        # A connection cancelled mid-query (a request cut short) is closed too: asyncpg may
        # still wait for the server to confirm the cancel, and the pool's close() for it.
        if isinstance(exc, (*BROKEN_CONNECTION, asyncio.CancelledError)) and self._conn:
            self._conn.terminate()
        await self._context.__aexit__(kind, exc, tb)

    def __await__(self) -> Any:
        return self._context.__await__()


async def create_pool(dsn: str, settings: Settings) -> Pool:
    server_settings = {"application_name": settings.db_application_name}
    if settings.statement_timeout_ms:
        # Bounds lock waits too: a command stuck behind a lock fails (503) instead of hanging.
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
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
    )
    pool.acquire_timeout = settings.pool_acquire_timeout
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
