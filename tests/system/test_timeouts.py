"""A stuck database cannot hang requests: the statement timeout and the pool's acquire timeout
turn a wait behind a lock into a 503, and nothing is appended by the command that gave up."""

import asyncio
import time
from uuid import UUID

import asyncpg
import httpx
import pytest

from app.storage import event_store
from tests.support.load import until
from tests.support.proxy import DatabaseProxy
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer

pytestmark = pytest.mark.slow


async def waiting_on_a_lock(pool: asyncpg.Pool, application_name: str) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) > 0 FROM pg_stat_activity"
            " WHERE application_name = $1 AND wait_event_type = 'Lock'",
            application_name,
        )


def assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0


async def test_a_command_stuck_behind_a_lock_gets_503_and_so_does_a_request_left_waiting(
    migrated_url: str, pool: asyncpg.Pool
) -> None:
    name = f"tasks-stuck-{random_user()}"
    server = LiveServer(
        migrated_url,
        TASKS_DB_APPLICATION_NAME=name,
        TASKS_POOL_MIN_SIZE="1",
        TASKS_POOL_MAX_SIZE="1",
        TASKS_POOL_ACQUIRE_TIMEOUT="0.5",
        # Far apart, so the read surely gives up while the command still holds the connection.
        TASKS_STATEMENT_TIMEOUT_MS="3000",
    )
    user = random_user()
    try:
        server.wait_ready()
        async with server.client(timeout=30) as client:
            task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
            url = f"/api/{user}/tasks/{task['id']}/complete"
            async with pool.acquire() as holder, holder.transaction():
                # The test holds the task's row lock, as a stuck transaction would.
                await holder.execute(
                    "SELECT 1 FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE",
                    user,
                    UUID(task["id"]),
                )
                stuck = asyncio.create_task(client.patch(url))
                await until(lambda: waiting_on_a_lock(pool, name), within=10)
                # The pool's one connection is stuck: a read waits for it, then gives up.
                assert_503(await client.get(f"/api/{user}/tasks"))
                assert_503(await stuck)
            assert (await client.patch(url)).json()["version"] == 2
    finally:
        server.stop()
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        versions = await conn.fetch(
            "SELECT version FROM events WHERE user_id = $1 ORDER BY version", user
        )
    assert [r["version"] for r in versions] == [1, 2]
    assert "Traceback" not in server.log_text()


async def test_a_frozen_network_to_the_database_gets_503_within_seconds(
    migrated_url: str,
) -> None:
    """A partition drops packets instead of refusing: only the server's statement_timeout
    bounded a query, and every request hung for the whole outage. The client gives up a
    little after the statement timeout now, and the service recovers once packets flow."""
    proxy = DatabaseProxy(migrated_url)
    proxy.start()
    server = LiveServer(
        proxy.url, TASKS_STATEMENT_TIMEOUT_MS="1000", TASKS_POOL_ACQUIRE_TIMEOUT="2"
    )
    user = random_user()
    try:
        server.wait_ready()
        async with server.client(timeout=30) as client:
            assert (await client.post(f"/api/{user}/tasks", json={"title": "x"})).status_code == 201
            proxy.freeze()
            started = time.monotonic()
            answers = await asyncio.gather(
                client.get(f"/api/{user}/tasks"),
                client.post(f"/api/{user}/tasks", json={"title": "y"}),
                client.get("/ready"),
            )
            seconds = time.monotonic() - started
            for response in answers:
                assert_503(response)
            assert seconds < 6, f"answered after {seconds:.1f} s"
            proxy.thaw()
            await until(lambda: listed(client, user), within=20)
    finally:
        server.stop()
        proxy.close()
    assert "Traceback" not in server.log_text()


async def listed(client: httpx.AsyncClient, user: str) -> bool:
    return (await client.get(f"/api/{user}/tasks")).status_code == 200
