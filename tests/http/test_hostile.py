"""Hostile input: oversized, deeply nested, badly encoded or SQL-looking. Each gets a clear 4xx
(or is stored verbatim), never a 500, and no response or log line gives away a traceback,
SQL or a secret."""

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.storage import event_store
from tests.support.checks import TASK_ID, assert_4xx_problem, assert_tells_nothing
from tests.support.random_refs import random_user
from tests.support.tokens import bearer, token


async def test_bodies_that_cannot_be_decoded_get_400(client: AsyncTestClient) -> None:
    user = random_user()
    bodies = [
        b"[" * 30_000 + b"]" * 30_000,  # nested far deeper than any parser's stack
        b'{"title": "\\ud800"}',  # a lone surrogate: not UTF-8 once decoded
        b'{"title": "x\xff\xfe"}',  # bytes that are not UTF-8
        b'{"title": 1e999999}',
        b'{"title": "x", "title": "y", "description": ' + b"9" * 5000 + b"}",
        b"\x00\x00\x00",
        b"",
    ]
    for body in bodies:
        response = await client.post(
            f"/api/{user}/tasks", content=body, headers={"content-type": "application/json"}
        )
        assert_4xx_problem(response, 400)
    assert (await client.get(f"/api/{user}/tasks")).json() == []


async def test_every_header_and_query_parameter_is_bounded(client: AsyncTestClient) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    url = f"/api/{user}/tasks/{task['id']}"
    for response in (
        await client.get(f"/api/{user}/tasks", params={"cursor": "c" * 201}),
        await client.get(f"/api/{user}/tasks", params={"limit": "9" * 40}),
        await client.get(f"/api/{user}/tasks", params={"completed": "\u202etrue"}),
        await client.get(url, headers={"If-None-Match": '"1"' * 400}),
        await client.patch(f"{url}/complete", headers={"If-Match": '"1"' * 40}),
        await client.patch(f"{url}/complete", headers={"Idempotency-Key": "k" * 256}),
        await client.get(f"/api/{'u' * 5000}/tasks", headers=bearer(user)),
    ):
        assert_4xx_problem(response, 400)
    huge_token = {"Authorization": "Bearer " + token(user) + "A" * 5000}
    assert_4xx_problem(await client.get(f"/api/{user}/tasks", headers=huge_token), 401)
    assert (await client.get(url)).json() == task


async def test_sql_looking_strings_are_stored_and_returned_verbatim(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    nasty = "x'); DROP TABLE events; -- \\' \" $1 %s {0} \u202e <script>"
    response = await client.post(
        f"/api/{user}/tasks",
        json={"title": nasty, "description": nasty * 10},
        headers={"Idempotency-Key": "'; DELETE FROM idempotency_keys; --"},
    )
    assert response.status_code == 201, response.text
    task = (await client.get(f"/api/{user}/tasks/{response.json()['id']}")).json()
    assert (task["title"], task["description"]) == (nasty, nasty * 10)
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        data = await conn.fetchval("SELECT data FROM events WHERE user_id = $1", user)
        keys = await conn.fetchval("SELECT key FROM idempotency_keys WHERE user_id = $1", user)
    assert data["title"] == nasty
    assert keys == "'; DELETE FROM idempotency_keys; --"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
async def test_odd_paths_get_no_500(client: AsyncTestClient, method: str) -> None:
    for path in (
        "/api/%2e%2e/tasks",
        "/api/a%2Fb/tasks",
        "/api/\u00e9\u00e8/tasks",
        f"/api/u/tasks/{TASK_ID}%00",
        "/api//tasks",
        "/api/u/tasks/../../health",
    ):
        response = await client.request(method, path)
        assert response.status_code < 500, (method, path, response.status_code)
        assert_tells_nothing(response.text)
