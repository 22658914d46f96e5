"""Idempotency-Key under real concurrency: one key sent on many connections at once has
one effect."""

import asyncio

import asyncpg
import httpx

from tests.support.checks import count, key
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer


async def test_concurrent_requests_with_one_key_have_one_effect(
    live_server: LiveServer, pool: asyncpg.Pool
) -> None:
    user, create_key = random_user(), key()
    async with live_server.client(limits=httpx.Limits(max_connections=32)) as client:
        creates = await asyncio.gather(
            *(
                client.post(f"/api/{user}/tasks", json={"title": "one"}, headers=create_key)
                for _ in range(12)
            )
        )
        assert {(r.status_code, r.content) for r in creates} == {(201, creates[0].content)}
        url = f"/api/{user}/tasks/{creates[0].json()['id']}/complete"
        toggle_key = key()
        toggles = await asyncio.gather(*(client.patch(url, headers=toggle_key) for _ in range(12)))
    assert {(r.status_code, r.content) for r in toggles} == {(200, toggles[0].content)}
    assert toggles[0].json()["version"] == 2
    assert await count(pool, "events", user) == 2
