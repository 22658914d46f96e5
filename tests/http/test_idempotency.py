"""Idempotency-Key: a retry gets the first answer and appends nothing; reuse for another
request gets 422; keys are per user, expire, and two requests racing with one key have one
effect."""

import asyncio

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.db import create_pool
from app.runtime.migrate import migrate_url
from app.settings import Settings
from app.storage.idempotency_keys import purge_expired
from tests.support.checks import count, key
from tests.support.random_refs import random_user
from tests.support.servers import signed_client


def same_answer(first: httpx.Response, retry: httpx.Response) -> None:
    assert retry.status_code == first.status_code
    assert retry.content == first.content
    for header in ("etag", "location", "content-type"):
        assert retry.headers.get(header) == first.headers.get(header), header
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


async def test_a_retried_create_returns_the_first_answer_and_creates_one_task(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user, headers = random_user(), key()
    first = await client.post(f"/api/{user}/tasks", json={"title": "once"}, headers=headers)
    assert first.status_code == 201
    retry = await client.post(f"/api/{user}/tasks", json={"title": "once"}, headers=headers)
    same_answer(first, retry)
    assert (await count(pool, "events", user), await count(pool, "tasks", user)) == (1, 1)


async def test_every_command_replays_its_first_answer(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "t"})).json()
    url = f"/api/{user}/tasks/{task['id']}"
    for send in (
        lambda h: client.patch(f"{url}/complete", headers=h),
        lambda h: client.put(url, json={"title": "renamed"}, headers=h),
        lambda h: client.put(url, json={"title": "renamed"}, headers=h),  # changes nothing
        lambda h: client.delete(url, headers=h),
    ):
        headers = key()
        first = await send(headers)
        assert first.status_code in (200, 204), first.text
        same_answer(first, await send(headers))
    # Created, toggled, renamed, deleted: the no-op PUT and every retry appended nothing.
    assert await count(pool, "events", user) == 4
    assert await count(pool, "idempotency_keys", user) == 4


async def test_the_same_key_with_another_body_or_path_gets_422_and_changes_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user, headers = random_user(), key()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "a"}, headers=headers)).json()
    other_body = await client.post(f"/api/{user}/tasks", json={"title": "b"}, headers=headers)
    other_path = await client.patch(f"/api/{user}/tasks/{task['id']}/complete", headers=headers)
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
    assert await count(pool, "events", user) == 1


async def test_keys_are_per_user(client: AsyncTestClient, pool: asyncpg.Pool) -> None:
    alice, bob, headers = random_user(), random_user(), key()
    for user in (alice, bob):
        response = await client.post(f"/api/{user}/tasks", json={"title": "x"}, headers=headers)
        assert (response.status_code, response.json()["user_id"]) == (201, user)
        assert "idempotent-replayed" not in response.headers
    assert await count(pool, "events", bob) == 1


async def test_a_failed_command_records_no_key_so_a_retry_runs_it(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user, headers = random_user(), key()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    url = f"/api/{user}/tasks/{task['id']}/complete"
    stale = await client.patch(url, headers={**headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    assert await count(pool, "idempotency_keys", user) == 0
    assert (await client.patch(url, headers=headers)).json()["completed"] is True


@pytest.mark.parametrize("value", ["", "k" * 256])
async def test_a_key_outside_1_to_255_characters_gets_400(
    client: AsyncTestClient, value: str
) -> None:
    user = random_user()
    response = await client.post(
        f"/api/{user}/tasks", json={"title": "x"}, headers={"Idempotency-Key": value}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def age(pool: asyncpg.Pool, user: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE user_id = $1",
            user,
        )


async def test_an_expired_key_is_ignored_and_purged(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user, headers = random_user(), key()
    first = await client.post(f"/api/{user}/tasks", json={"title": "x"}, headers=headers)
    await age(pool, user)
    again = await client.post(f"/api/{user}/tasks", json={"title": "x"}, headers=headers)
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert await count(pool, "tasks", user) == 2
    await age(pool, user)
    await purge_expired(pool, 24 * 3600)
    assert await count(pool, "idempotency_keys", user) == 0


async def test_the_service_purges_expired_keys_by_itself(
    settings: Settings, fresh_database: str
) -> None:
    # A database of its own: the purge is a leader's job, and this app must be the leader.
    await migrate_url(fresh_database)
    app = create_app(
        settings.model_copy(
            update={
                "database_url": fresh_database,
                "idempotency_purge_seconds": 0.05,
                "leader_retry_seconds": 0.05,
            }
        )
    )
    user = random_user()
    pool = await create_pool(fresh_database, settings)
    try:
        async with signed_client(app) as client:
            await client.post(f"/api/{user}/tasks", json={"title": "x"}, headers=key())
            await age(pool, user)
            for _ in range(100):
                if await count(pool, "idempotency_keys", user) == 0:
                    break
                await asyncio.sleep(0.05)
        assert await count(pool, "idempotency_keys", user) == 0
    finally:
        await pool.close()
