"""Read-your-writes and serialised concurrent commands, through the real app."""

import asyncio
from uuid import UUID

import asyncpg
import httpx
from litestar.testing import AsyncTestClient

from app.storage import event_store
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer

# Every request on its own connection, so the server really sees them at once.
LIMITS = httpx.Limits(max_connections=64)


async def test_a_query_right_after_a_command_sees_it_every_time(client: AsyncTestClient) -> None:
    user = random_user()
    seen: list[str] = []
    for n in range(60):
        task = (await client.post(f"/api/{user}/tasks", json={"title": f"t{n}"})).json()
        seen.append(task["id"])
        listed = (await client.get(f"/api/{user}/tasks?limit=1000")).json()
        assert [t["id"] for t in listed] == seen[::-1]
        url = f"/api/{user}/tasks/{task['id']}"
        toggled = (await client.patch(f"{url}/complete")).json()
        assert (await client.get(url)).json() == toggled


async def test_40_concurrent_toggles_give_versions_1_to_41_with_no_gap(
    live_server: LiveServer, pool: asyncpg.Pool
) -> None:
    user = random_user()
    async with live_server.client(limits=LIMITS) as client:
        task = (await client.post(f"/api/{user}/tasks", json={"title": "contended"})).json()
        url = f"/api/{user}/tasks/{task['id']}"
        responses = await asyncio.gather(*(client.patch(f"{url}/complete") for _ in range(40)))
        final = (await client.get(url)).json()
    assert sorted(r.status_code for r in responses) == [200] * 40
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 42))
    history = await events_of(pool, user, task["id"])
    assert [v for v, _ in history] == list(range(1, 42))
    # Each toggle saw the state the previous one left: completion alternates.
    assert [c for _, c in history] == [False] + [n % 2 == 1 for n in range(1, 41)]
    assert (final["version"], final["completed"]) == (41, False)


async def test_concurrent_updates_of_different_fields_are_all_kept(
    live_server: LiveServer, pool: asyncpg.Pool
) -> None:
    user = random_user()
    async with live_server.client(limits=LIMITS) as client:
        task = (await client.post(f"/api/{user}/tasks", json={"title": "t"})).json()
        url = f"/api/{user}/tasks/{task['id']}"
        responses = await asyncio.gather(
            client.put(url, json={"title": "new title"}),
            client.put(url, json={"description": "new description"}),
            client.put(url, json={"completed": True}),
            *(client.patch(f"{url}/complete") for _ in range(6)),
        )
        final = (await client.get(url)).json()
    assert all(r.status_code == 200 for r in responses)
    assert (final["title"], final["description"]) == ("new title", "new description")
    history = await events_of(pool, user, task["id"])
    # Two field updates, six toggles, and the PUT's toggle unless it found the task completed.
    assert [v for v, _ in history] == list(range(1, final["version"] + 1))
    assert final["version"] in (9, 10)
    toggles = [completed for _, completed in history if completed is not None]
    assert final["completed"] is toggles[-1]


async def events_of(pool: asyncpg.Pool, user: str, task_id: str) -> list[tuple[int, bool | None]]:
    """(version, completion it sets or None) for each event, read straight from the log."""
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        rows = await conn.fetch(
            "SELECT version, type, data FROM events WHERE user_id = $1 AND stream_id = $2"
            " ORDER BY version",
            user,
            UUID(task_id),
        )
    return [(r["version"], r["data"].get("completed")) for r in rows]


async def test_concurrent_commands_with_one_if_match_give_one_success_and_412s(
    live_server: LiveServer, pool: asyncpg.Pool
) -> None:
    user = random_user()
    async with live_server.client(limits=LIMITS) as client:
        task = (await client.post(f"/api/{user}/tasks", json={"title": "t"})).json()
        url = f"/api/{user}/tasks/{task['id']}/complete"
        responses = await asyncio.gather(
            *(client.patch(url, headers={"If-Match": '"1"'}) for _ in range(10))
        )
    assert sorted(r.status_code for r in responses) == [200] + [412] * 9
    assert {r.headers["etag"] for r in responses if r.status_code == 412} == {'"2"'}
    assert [v for v, _ in await events_of(pool, user, task["id"])] == [1, 2]
