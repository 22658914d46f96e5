"""A server killed with SIGKILL in the middle of a write load loses nothing it acknowledged."""

import asyncio
import signal

import asyncpg
import httpx
import pytest

from tests.support.load import Load, assert_nothing_acknowledged_was_lost, until
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer

pytestmark = pytest.mark.slow


async def acked(load: Load, count: int) -> bool:
    return len(load.acked) >= count


async def no_backends(pool: asyncpg.Pool, application_name: str) -> bool:
    async with pool.acquire() as conn:
        return not await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application_name
        )


async def test_sigkill_mid_load_loses_no_acknowledged_command(
    migrated_url: str, pool: asyncpg.Pool
) -> None:
    name = f"tasks-crash-{random_user()}"
    server = LiveServer(migrated_url, TASKS_DB_APPLICATION_NAME=name)
    try:
        server.wait_ready()
        async with server.client(limits=httpx.Limits(max_connections=16), timeout=10) as client:
            load = Load(client, [random_user() for _ in range(4)])
            running = asyncio.create_task(load.run(quit_on_transport_error=True))
            await until(lambda: acked(load, 150), within=30)
            server.process.send_signal(signal.SIGKILL)
            await running
    finally:
        server.stop()
    assert server.process.returncode == -signal.SIGKILL
    assert load.transport_errors > 0  # the kill really cut requests off mid-way
    assert set(load.statuses) <= {200, 201}, load.statuses
    # Statements the dead server had sent may still be finishing: wait for its sessions to end.
    await until(lambda: no_backends(pool, name), within=10)
    await assert_nothing_acknowledged_was_lost(pool, load.users, load.acked)
