"""The database goes away under load: 503 with Retry-After meanwhile, never a 500, and the
service recovers by itself, with no restart."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest

from tests.support.load import (
    Load,
    assert_nothing_acknowledged_was_lost,
    assert_only_served_or_503,
    until,
)
from tests.support.proxy import DatabaseProxy
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer

pytestmark = pytest.mark.slow


@asynccontextmanager
async def loaded(server: LiveServer) -> AsyncIterator[Load]:
    """A write load running against the server for the duration."""
    server.wait_ready()
    async with server.client(limits=httpx.Limits(max_connections=16), timeout=10) as client:
        load = Load(client, [random_user() for _ in range(3)])
        running = asyncio.create_task(load.run())
        await until(lambda: served(load, 30), within=30)
        try:
            yield load
        finally:
            load.stop.set()
            await running


async def served(load: Load, count: int) -> bool:
    return len(load.acked) >= count


async def recovers(load: Load) -> None:
    """The load gets served again: 30 more acknowledged commands."""
    target = len(load.acked) + 30
    await until(lambda: served(load, target), within=20)


async def terminate(pool: asyncpg.Pool, application_name: str) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            application_name,
        )


def assert_quiet_log(server: LiveServer) -> None:
    log = server.log_text()
    assert "Traceback" not in log
    assert "unhandled" not in log


async def test_connections_terminated_under_load(migrated_url: str, pool: asyncpg.Pool) -> None:
    name = f"tasks-terminated-{random_user()}"
    server = LiveServer(migrated_url, TASKS_DB_APPLICATION_NAME=name)
    try:
        async with loaded(server) as load:
            terminated = 0
            for _ in range(5):
                terminated += await terminate(pool, name)
                await asyncio.sleep(0.1)
            await recovers(load)
    finally:
        server.stop()
    assert terminated > 0
    assert load.transport_errors == 0
    assert_only_served_or_503(load)
    assert_quiet_log(server)
    await assert_nothing_acknowledged_was_lost(pool, load.users, load.acked)


async def test_database_unreachable_under_load(migrated_url: str, pool: asyncpg.Pool) -> None:
    proxy = DatabaseProxy(migrated_url)
    proxy.start()
    server = LiveServer(proxy.url, TASKS_POOL_ACQUIRE_TIMEOUT="1")
    try:
        async with loaded(server) as load:
            proxy.cut()
            await until(lambda: refused(load, 20), within=20)
            async with httpx.AsyncClient(base_url=server.url) as probe:
                assert (await probe.get("/health")).status_code == 200
                assert (await probe.get("/ready")).status_code == 503
            proxy.start()
            await recovers(load)
    finally:
        server.stop()
        proxy.close()
    assert load.statuses[503] >= 20
    assert load.transport_errors == 0
    assert_only_served_or_503(load)
    assert_quiet_log(server)
    await assert_nothing_acknowledged_was_lost(pool, load.users, load.acked)


async def refused(load: Load, count: int) -> bool:
    return load.statuses[503] >= count
