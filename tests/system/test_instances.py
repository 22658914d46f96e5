"""Three `tasks serve` processes on one database: concurrent commands on the same tasks through
different instances, idempotent retries landing elsewhere, a stream on one instance carrying what
the others wrote, a `tasks rebuild` while all three serve. Afterwards nothing is lost or doubled,
the read table is the fold of the log, and `tasks verify` passes."""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.runtime.db import create_pool
from app.runtime.migrate import migrate_url
from app.settings import Settings
from tests.support.load import Ack, assert_nothing_acknowledged_was_lost
from tests.support.random_refs import random_user
from tests.support.replay import tasks_cli
from tests.support.servers import LiveServer
from tests.support.sse import EventStream

pytestmark = pytest.mark.slow
TASKS = 4
TOGGLES_PER_TASK = 24


@pytest.fixture
async def instances(fresh_database: str) -> AsyncIterator[list[LiveServer]]:
    """A database of their own, so the rebuild and verify below see only this test's log."""
    await migrate_url(fresh_database)
    servers = [LiveServer(fresh_database, TASKS_POOL_MAX_SIZE="4") for _ in range(3)]
    try:
        await asyncio.gather(*(asyncio.to_thread(s.wait_ready) for s in servers))
        yield servers
    finally:
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in servers))


def ack(response: httpx.Response) -> Ack:
    assert response.status_code in (200, 201), response.text
    body = response.json()
    return Ack(body["user_id"], uuid.UUID(body["id"]), body["version"])


async def test_three_instances_share_one_log_without_losing_or_doubling_anything(
    instances: list[LiveServer], fresh_database: str
) -> None:
    user = random_user("multi")
    clients = [s.client(limits=httpx.Limits(max_connections=64), timeout=30) for s in instances]
    spread = itertools.cycle(clients)
    try:
        async with clients[0].stream("GET", f"/api/events/stream?user_id={user}&after=0") as live:
            stream = EventStream(live)
            tasks = [
                (await next(spread).post(f"/api/{user}/tasks", json={"title": f"t{n}"})).json()
                for n in range(TASKS)
            ]
            toggles = [
                next(spread).patch(f"/api/{user}/tasks/{t['id']}/complete")
                for t in tasks
                for _ in range(TOGGLES_PER_TASK)
            ]
            renames = [
                next(spread).put(f"/api/{user}/tasks/{t['id']}", json={"title": f"renamed {n}"})
                for n, t in enumerate(tasks)
            ]
            key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
            retries = [
                c.post(f"/api/{user}/tasks", json={"title": "once"}, headers=key) for c in clients
            ]
            # The whole read table is rebuilt and swapped in while the commands run.
            rebuild = asyncio.to_thread(tasks_cli, fresh_database, "rebuild", "--batch-size", "7")
            rebuilt, *responses = await asyncio.gather(rebuild, *toggles, *renames, *retries)
            acked = [ack(r) for r in responses]
            log = (await clients[1].get(f"/api/{user}/events?limit=1000")).json()["events"]
            received = await stream.take(len(log))
    finally:
        for client in clients:
            await client.aclose()

    # The idempotent retries, on three instances at once, made one task.
    created = {r.json()["id"] for r in responses[-len(clients) :]}
    assert len(created) == 1
    assert sum(e["type"] == "TaskCreated" for e in log) == TASKS + 1
    # Every toggle acknowledged is one event; versions have no gap (checked per stream below).
    assert sum(e["type"] == "TaskToggled" for e in log) == TASKS * TOGGLES_PER_TASK
    assert sum(e["type"] == "TaskUpdated" for e in log) == TASKS
    # The stream on instance 0 carried everything, written through all three, once, in order.
    assert [e["id"] for e in received] == [e["position"] for e in log]
    assert [e["id"] for e in received] == sorted({e["id"] for e in received})
    assert rebuilt.returncode == 0, rebuilt.stderr
    pool = await create_pool(fresh_database, Settings(database_url=fresh_database, _env_file=None))
    try:
        await assert_nothing_acknowledged_was_lost(pool, [user], acked)
    finally:
        await pool.close()
    verified = tasks_cli(fresh_database, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
