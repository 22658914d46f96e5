"""Isolation: every /api route, called with another user's token or with no valid token at
all, is refused and changes nothing; every user's events need the role auditor.

ROUTES is the whole list, exactly: a new /api route gets one line here, and a test fails until
it has one; a route listed here that the app no longer serves fails too.
"""

import re
from dataclasses import dataclass

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.storage import event_store
from tests.support.random_refs import random_user
from tests.support.tokens import bad_tokens, bearer


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {user_id} and {task_id}
    body: dict[str, object] | None = None
    feed: bool = False  # every user's events: the role auditor, not the path, decides
    endless: bool = False  # a stream that never ends when allowed

    def url(self, user: str, task_id: str) -> str:
        return self.path.format(user_id=user, task_id=task_id)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", "/api/{user_id}/tasks"),
    Route("POST", "/api/{user_id}/tasks", {"title": "intruder"}),
    Route("GET", "/api/{user_id}/tasks/{task_id}"),
    Route("PUT", "/api/{user_id}/tasks/{task_id}", {"title": "intruder", "completed": True}),
    Route("PATCH", "/api/{user_id}/tasks/{task_id}/complete"),
    Route("DELETE", "/api/{user_id}/tasks/{task_id}"),
    Route("GET", "/api/{user_id}/tasks/{task_id}/history"),
    Route("GET", "/api/{user_id}/events"),
    Route("GET", "/api/events", feed=True),
    Route("GET", "/api/events/stream", feed=True, endless=True),
]


def served(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every /api route the app has, path parameters without their types."""
    return {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in app.routes
        if route.path.startswith("/api")
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }


def test_the_matrix_is_every_api_route_the_app_serves(app: Litestar) -> None:
    assert served(app) == {(r.method, r.path) for r in ROUTES}


@pytest.fixture
async def alices_task(client: AsyncTestClient) -> tuple[str, str]:
    alice = random_user("alice")
    task = (await client.post(f"/api/{alice}/tasks", json={"title": "private"})).json()
    return alice, task["id"]


async def snapshot(pool: asyncpg.Pool, user: str) -> list[tuple[object, ...]]:
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        rows = await conn.fetch(
            "SELECT stream_id, version, type FROM events WHERE user_id = $1 ORDER BY position",
            user,
        )
    return [tuple(r) for r in rows]


def send(client: AsyncTestClient, route: Route, url: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.request(route.method, url, json=route.body, headers=headers, auth=None)


@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_another_users_token_is_refused(
    client: AsyncTestClient,
    pool: asyncpg.Pool,
    alices_task: tuple[str, str],
    route: Route,
) -> None:
    alice, task_id = alices_task
    before = await snapshot(pool, alice)
    mallory = random_user("mallory")
    url = route.url(alice, task_id)
    for headers in (bearer(mallory), bearer(mallory, roles=["reader", "admin"])):
        response = await send(client, route, url, headers)
        assert response.status_code in (403, 404), (route, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
        assert "private" not in response.text
    if not route.feed:
        # Being an auditor opens every user's events, not their tasks.
        response = await send(client, route, url, bearer(mallory, roles=["auditor"]))
        assert response.status_code in (403, 404), (route, response.status_code)
    assert await snapshot(pool, alice) == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("case", list(bad_tokens("x")))
async def test_no_valid_token_is_refused_with_401(
    client: AsyncTestClient,
    pool: asyncpg.Pool,
    alices_task: tuple[str, str],
    route: Route,
    case: str,
) -> None:
    alice, task_id = alices_task
    before = await snapshot(pool, alice)
    response = await send(client, route, route.url(alice, task_id), bad_tokens(alice)[case])
    assert response.status_code == 401, (route, case, response.status_code)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await snapshot(pool, alice) == before


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.endless], ids=str)
async def test_the_right_token_is_let_through(
    client: AsyncTestClient, alices_task: tuple[str, str], route: Route
) -> None:
    """The control: the refusals above are about the token, not a broken request."""
    alice, task_id = alices_task
    headers = bearer("auditor-of-tests", roles=["auditor"]) if route.feed else bearer(alice)
    response = await send(client, route, route.url(alice, task_id), headers)
    assert 200 <= response.status_code < 300, (route, response.status_code, response.text)
