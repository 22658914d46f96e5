"""Three `tasks serve` processes on one database: concurrent commands on the same tasks through
different instances, idempotent retries landing elsewhere, a stream on one instance carrying what
the others wrote. Afterwards nothing is lost or doubled and the read table is the fold of the log."""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.conftest import LiveServer
from tests.faults.load import Ack, assert_nothing_acknowledged_was_lost
from tests.random_refs import random_user
from tests.sse import EventStream

pytestmark = pytest.mark.slow
TASKS = 4
TOGGLES_PER_TASK = 24


@pytest.fixture(scope="module")
async def instances(migrated_url: str) -> AsyncIterator[list[LiveServer]]:
    servers = [LiveServer(migrated_url, TASKS_POOL_MAX_SIZE="4") for _ in range(3)]
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
    instances: list[LiveServer], pool: asyncpg.Pool
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
            responses = await asyncio.gather(*toggles, *renames, *retries)
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
    await assert_nothing_acknowledged_was_lost(pool, [user], acked)
