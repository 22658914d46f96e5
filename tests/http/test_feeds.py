"""The per-user and global event feeds through the real app: log order, filters, paging by next."""

import asyncpg
from litestar.testing import AsyncTestClient

from tests.support.random_refs import random_user
from tests.support.seed import append_one


async def some_history(client: AsyncTestClient, user: str) -> list[dict]:
    """Two tasks, one completed, one deleted; returns the user's events from their histories."""
    urls = []
    for title in ("one", "two"):
        task = (await client.post(f"/api/{user}/tasks", json={"title": title})).json()
        urls.append(f"/api/{user}/tasks/{task['id']}")
    await client.patch(f"{urls[0]}/complete")
    await client.delete(urls[1])
    events = [e for url in urls for e in (await client.get(f"{url}/history")).json()]
    return sorted(events, key=lambda e: e["position"])


async def page_through(client: AsyncTestClient, url: str, after: int, limit: int) -> list[dict]:
    seen: list[dict] = []
    while True:
        separator = "&" if "?" in url else "?"
        response = await client.get(f"{url}{separator}after={after}&limit={limit}")
        assert response.status_code == 200
        body = response.json()
        if not body["events"]:
            assert body["next"] == after
            return seen
        assert len(body["events"]) <= limit
        assert body["next"] == body["events"][-1]["position"]
        seen.extend(body["events"])
        after = body["next"]


async def test_a_users_feed_pages_through_their_events_once_each_in_log_order(
    client: AsyncTestClient,
) -> None:
    user, other = random_user(), random_user()
    await some_history(client, other)
    mine = await some_history(client, user)
    await some_history(client, other)
    assert await page_through(client, f"/api/{user}/events", 0, 2) == mine
    whole = (await client.get(f"/api/{user}/events")).json()
    assert whole == {"events": mine, "next": mine[-1]["position"]}
    after_first = (await client.get(f"/api/{user}/events?after={mine[0]['position']}")).json()
    assert after_first["events"] == mine[1:]


async def test_the_global_feed_holds_every_users_events_and_filters_by_user_and_type(
    client: AsyncTestClient,
) -> None:
    users = [random_user(), random_user()]
    events = [e for user in users for e in await some_history(client, user)]
    start = min(e["position"] for e in events) - 1
    everyone = await page_through(client, "/api/events", start, 3)
    mine = [e for e in everyone if e["user_id"] in users]
    assert mine == sorted(events, key=lambda e: e["position"])
    only_one = await page_through(client, f"/api/events?user_id={users[1]}", start, 2)
    assert only_one == [e for e in mine if e["user_id"] == users[1]]
    toggles = await page_through(client, "/api/events?type=TaskToggled", start, 2)
    assert [e for e in toggles if e["user_id"] in users] == [
        e for e in mine if e["type"] == "TaskToggled"
    ]
    both = await page_through(client, f"/api/events?type=TaskDeleted&user_id={users[0]}", 0, 5)
    assert [e["type"] for e in both] == ["TaskDeleted"]


async def test_a_feed_past_its_end_is_empty_and_next_stays_at_after(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    await some_history(client, user)
    far = 2**62
    for url in (f"/api/{user}/events?after={far}", f"/api/events?after={far}"):
        assert (await client.get(url)).json() == {"events": [], "next": far}
    assert (await client.get(f"/api/{random_user()}/events")).json() == {"events": [], "next": 0}


async def test_a_page_holds_100_events_unless_asked_otherwise(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        positions = [(await append_one(conn, user))[0] for _ in range(101)]
    first = (await client.get(f"/api/{user}/events")).json()
    assert [e["position"] for e in first["events"]] == positions[:100]
    assert first["next"] == positions[99]
    rest = (await client.get(f"/api/{user}/events?after={first['next']}&limit=1000")).json()
    assert [e["position"] for e in rest["events"]] == positions[100:]
    everyone = (await client.get(f"/api/events?user_id={user}")).json()
    assert len(everyone["events"]) == 100


async def test_bad_feed_parameters_are_400_naming_the_parameter(client: AsyncTestClient) -> None:
    cases = {
        "/api/events?type=TaskExploded": "type",
        "/api/events?type=taskcreated": "type",
        "/api/events?user_id=not%20valid": "user_id",
        "/api/events?after=-1": "after",
        "/api/events?after=x": "after",
        "/api/events?after=9223372036854775808": "after",
        "/api/events?limit=0": "limit",
        "/api/events?limit=1001": "limit",
        "/api/alice/events?limit=1001": "limit",
        "/api/alice/events?after=-5": "after",
        "/api/events/stream?type=Nope": "type",
        "/api/events/stream?after=-1": "after",
    }
    for url, field in cases.items():
        response = await client.get(url)
        assert response.status_code == 400, url
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == [field], url
    for header in ("x", "-3", "1.5", "99999999999999999999"):
        response = await client.get("/api/events/stream", headers={"Last-Event-ID": header})
        assert response.status_code == 400, header
        assert response.json()["errors"][0]["field"] == "Last-Event-ID"


async def test_a_user_named_events_keeps_their_own_paths(client: AsyncTestClient) -> None:
    task = (await client.post("/api/events/tasks", json={"title": "x"})).json()
    assert task["user_id"] == "events"
    history = (await client.get(f"/api/events/tasks/{task['id']}/history")).json()
    assert [e["type"] for e in history] == ["TaskCreated"]
    feed = await client.get(f"/api/events/events?after={history[0]['position'] - 1}&limit=1")
    assert feed.json()["events"] == history


async def test_the_openapi_document_describes_the_audit_endpoints(client: AsyncTestClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {p["name"] for p in paths["/api/events"]["get"]["parameters"]} >= {
        "after",
        "limit",
        "type",
        "user_id",
    }
    assert "get" in paths["/api/{user_id}/tasks/{task_id}/history"]
    assert "get" in paths["/api/{user_id}/events"]
    assert "text/event-stream" in paths["/api/events/stream"]["get"]["responses"]["200"]["content"]
    single = paths["/api/{user_id}/tasks/{task_id}"]["get"]["parameters"]
    assert {"version", "as_of"} <= {p["name"] for p in single}
