"""Every error the API page lists: problem+json, the right status, and nothing changed."""

import base64

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings
from app.storage import event_store
from tests.support.checks import TASK_ID
from tests.support.proxy import DatabaseProxy
from tests.support.random_refs import random_user
from tests.support.servers import signed_client


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    assert body["detail"]
    return body


async def event_count(pool: asyncpg.Pool, user: str) -> int:
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        return await conn.fetchval("SELECT count(*) FROM events WHERE user_id = $1", user)


BAD_BODIES = [
    ({"title": 3}, "title"),
    ({"title": None}, "title"),
    ({}, "title"),
    ({"title": "x", "owner": "mallory"}, "owner"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "a\u0000b"}, "title"),
    ({"title": "x", "description": "d\u0000"}, "description"),
    ({"title": "x", "description": "d" * 2001}, "description"),
    ({"title": "x", "description": 5}, "description"),
    ([1, 2], "body"),
    ("a string", "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_a_bad_create_body_gets_400_naming_the_field_and_appends_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool, body: object, field: str
) -> None:
    user = random_user()
    problem = assert_problem(await client.post(f"/api/{user}/tasks", json=body), 400)
    assert field in [e["field"] for e in problem["errors"]]
    assert all(e["message"] for e in problem["errors"])
    assert await event_count(pool, user) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"completed": "yes"},
        {"title": ""},
        {"title": "ok", "extra": 1},
        {"description": "\u0000"},
        # Strict: no string or number is taken for a boolean.
        {"completed": "true"},
        {"completed": "0"},
        {"completed": 0},
        {"completed": 1},
        {"completed": None},
        {"title": "ok", "completed": "false"},
    ],
)
async def test_a_bad_update_body_gets_400_and_changes_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool, body: dict
) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    response = await client.put(f"/api/{user}/tasks/{task['id']}", json=body)
    assert_problem(response, 400)
    assert await event_count(pool, user) == 1
    assert (await client.get(f"/api/{user}/tasks/{task['id']}")).json() == task


@pytest.mark.parametrize("completed", ["true", "0", 0, 1.0])
async def test_a_completed_that_is_not_a_boolean_is_named_and_changes_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool, completed: object
) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    response = await client.put(f"/api/{user}/tasks/{task['id']}", json={"completed": completed})
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["completed"]
    assert problem["errors"][0]["message"].startswith("must be true or false")
    assert await event_count(pool, user) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "title", "is required"),
        ({"description": "d"}, "title", "is required"),
        ({"title": "x", "colour": "red"}, "colour", "is not a field of this request"),
        ({"title": "x" * 5000}, "title", "must be 1 to 200 characters once trimmed"),
        ({"title": "x", "description": "d" * 3000}, "description", "at most 2000 characters"),
        ({"title": 42}, "title", "must be a string, not an integer"),
    ],
)
async def test_a_bad_body_names_the_field_in_words(
    client: AsyncTestClient, body: object, field: str, message: str
) -> None:
    problem = assert_problem(await client.post(f"/api/{random_user()}/tasks", json=body), 400)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert message in problem["errors"][0]["message"]


@pytest.mark.parametrize("method", ["post", "put"])
@pytest.mark.parametrize("content", [b"", b"  \n"])
async def test_an_empty_body_is_said_to_be_empty(
    client: AsyncTestClient, method: str, content: bytes
) -> None:
    path = f"/api/{random_user()}/tasks" + (f"/{TASK_ID}" if method == "put" else "")
    response = await client.request(
        method, path, content=content, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["field"] == "body"
    assert problem["errors"][0]["message"].startswith("is empty: send a JSON object")


async def test_malformed_json_gets_400(client: AsyncTestClient) -> None:
    response = await client.post(
        f"/api/{random_user()}/tasks",
        content=b'{"title": "x"',
        headers={"content-type": "application/json"},
    )
    assert assert_problem(response, 400)["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "user_id", ["a" * 65, "al ice", "bob!", "%00", "semi;colon", "'; DROP TABLE events; --"]
)
async def test_a_malformed_user_id_gets_400(client: AsyncTestClient, user_id: str) -> None:
    for response in (
        await client.get(f"/api/{user_id}/tasks"),
        await client.post(f"/api/{user_id}/tasks", json={"title": "x"}),
        await client.patch(f"/api/{user_id}/tasks/{TASK_ID}/complete"),
    ):
        problem = assert_problem(response, 400)
        assert problem["errors"][0]["field"] == "user_id"


async def test_the_longest_and_oddest_allowed_user_id_works(client: AsyncTestClient) -> None:
    user = "A.b_c@d-" + "x" * 56
    response = await client.post(f"/api/{user}/tasks", json={"title": "x"})
    assert response.status_code == 201
    assert response.json()["user_id"] == user


def crafted_cursor(created_at: str) -> str:
    raw = f'["{created_at}", "7c1e2f6a-0000-4000-8000-000000000001"]'.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "completed=maybe",
        "cursor=not-a-cursor",
        # Well-formed, but out of the database's range once in UTC, or without an offset.
        f"cursor={crafted_cursor('0001-01-01T00:00:00+01:00')}",
        f"cursor={crafted_cursor('9999-12-31T23:59:59-01:00')}",
        f"cursor={crafted_cursor('2026-01-01T00:00:00')}",
    ],
)
async def test_bad_list_parameters_get_400(client: AsyncTestClient, query: str) -> None:
    problem = assert_problem(await client.get(f"/api/{random_user()}/tasks?{query}"), 400)
    assert problem["errors"][0]["field"] == query.split("=")[0]


async def test_a_malformed_if_match_gets_400(client: AsyncTestClient) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    response = await client.patch(
        f"/api/{user}/tasks/{task['id']}/complete", headers={"If-Match": "three"}
    )
    assert assert_problem(response, 400)["errors"][0]["field"] == "If-Match"


@pytest.mark.parametrize(
    "path",
    [f"/api/u/tasks/{TASK_ID}", "/api/u/tasks/not-a-uuid", "/nowhere", "/api/u/tasks/7c1e2f6a"],
)
async def test_unknown_tasks_and_routes_get_404(client: AsyncTestClient, path: str) -> None:
    assert_problem(await client.get(path), 404)


async def test_commands_on_a_malformed_task_id_get_404(client: AsyncTestClient) -> None:
    """A task id that is not a UUID matches no route: 404, as for a query (API: "404 also
    answers a path that matches no route")."""
    for response in (
        await client.get("/api/u/tasks/not-a-uuid"),
        await client.patch("/api/u/tasks/1/complete"),
        await client.put("/api/u/tasks/1", json={"title": "x"}),
        await client.delete("/api/u/tasks/1"),
    ):
        problem = assert_problem(response, 404)
        assert problem["errors"] == [{"field": "task_id", "message": "is not a UUID"}]


@pytest.mark.parametrize(
    "path", ["/nowhere", "/api/u/nothing", f"/api/u/tasks/{TASK_ID}/nothing", "/api/u/tasks/1/x"]
)
async def test_a_path_that_matches_no_route_is_not_blamed_on_the_task_id(
    client: AsyncTestClient, path: str
) -> None:
    # Litestar's "no such route" is itself a ValueError: only a task id the router could not
    # parse is "not a UUID"; any other unknown path is simply not found.
    problem = assert_problem(await client.get(path), 404)
    assert "task id" not in problem["detail"]
    assert "errors" not in problem


async def test_a_method_the_route_does_not_have_gets_405(client: AsyncTestClient) -> None:
    assert_problem(await client.post(f"/api/u/tasks/{TASK_ID}", json={}), 405)
    assert_problem(await client.delete("/api/u/tasks"), 405)


async def test_a_body_over_64_kib_gets_413_and_appends_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    body = b'{"title": "x", "description": "' + b"d" * 70_000 + b'"}'
    response = await client.post(
        f"/api/{user}/tasks", content=body, headers={"content-type": "application/json"}
    )
    assert "65536 bytes" in assert_problem(response, 413)["detail"]
    assert await event_count(pool, user) == 0


async def test_a_body_that_is_not_json_gets_415(client: AsyncTestClient) -> None:
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "application/xml"):
        response = await client.post(
            f"/api/{random_user()}/tasks",
            content=b"title=x",
            headers={"content-type": content_type},
        )
        assert_problem(response, 415)


async def test_json_with_a_charset_is_accepted(client: AsyncTestClient) -> None:
    response = await client.post(
        f"/api/{random_user()}/tasks",
        content=b'{"title": "x"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_sql_looking_input_is_stored_verbatim(client: AsyncTestClient) -> None:
    user = random_user()
    title = "'); DELETE FROM tasks; -- $1 \\x00"
    task = (await client.post(f"/api/{user}/tasks", json={"title": title})).json()
    assert (await client.get(f"/api/{user}/tasks/{task['id']}")).json()["title"] == title


async def test_an_unreachable_database_gets_503_with_retry_after_and_the_service_recovers(
    settings: Settings,
) -> None:
    assert settings.database_url
    proxy = DatabaseProxy(settings.database_url)
    proxy.start()
    app = create_app(settings.model_copy(update={"database_url": proxy.url}))
    user = random_user()
    async with signed_client(app) as client:
        assert (
            await client.post(f"/api/{user}/tasks", json={"title": "before"})
        ).status_code == 201
        proxy.cut()
        for response in (
            await client.get(f"/api/{user}/tasks"),
            await client.post(f"/api/{user}/tasks", json={"title": "during"}),
            await client.get("/ready"),
        ):
            problem = assert_problem(response, 503)
            assert int(response.headers["retry-after"]) > 0
            assert "Traceback" not in problem["detail"]
        assert (await client.get("/health")).status_code == 200
        proxy.start()
        recovered = await client.get(f"/api/{user}/tasks")
        assert recovered.status_code == 200
        assert [t["title"] for t in recovered.json()] == ["before"]
        assert (await client.get("/ready")).status_code == 200
    proxy.close()
