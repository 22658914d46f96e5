"""Queries through the real app: the list (order, filter, paging) and the single task."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import asyncpg
from litestar.testing import AsyncTestClient

from tests.support.random_refs import random_user
from tests.support.seed import create, new_task


async def test_the_list_is_newest_first(client: AsyncTestClient) -> None:
    user = random_user()
    ids = [
        (await client.post(f"/api/{user}/tasks", json={"title": f"t{n}"})).json()["id"]
        for n in range(3)
    ]
    response = await client.get(f"/api/{user}/tasks")
    assert response.status_code == 200
    assert [t["id"] for t in response.json()] == ids[::-1]
    assert "link" not in response.headers


async def seed_with_one_creation_time(pool: asyncpg.Pool, user: str, count: int) -> set[str]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    tasks = [new_task(user, "same time", at) for _ in range(count)]
    async with pool.acquire() as conn:
        for task in tasks:
            await create(conn, task)
    return {str(t.id) for t in tasks}


async def test_tasks_created_at_the_same_time_keep_a_stable_order(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    await seed_with_one_creation_time(pool, user, 5)
    first = [t["id"] for t in (await client.get(f"/api/{user}/tasks")).json()]
    again = [t["id"] for t in (await client.get(f"/api/{user}/tasks")).json()]
    assert first == again == sorted(first, reverse=True)


async def follow_pages(client: AsyncTestClient, url: str) -> list[list[str]]:
    pages = []
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        pages.append([t["id"] for t in response.json()])
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else ""
        if link:
            assert link.endswith('; rel="next"')
    return pages


async def test_paging_with_the_next_link_visits_every_task_once_in_order(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    await seed_with_one_creation_time(pool, user, 4)
    for n in range(3):
        await client.post(f"/api/{user}/tasks", json={"title": f"t{n}"})
    everything = [t["id"] for t in (await client.get(f"/api/{user}/tasks")).json()]
    pages = await follow_pages(client, f"/api/{user}/tasks?limit=2")
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [i for page in pages for i in page] == everything


async def test_the_completed_filter_holds_across_pages(client: AsyncTestClient) -> None:
    user = random_user()
    done = []
    for n in range(5):
        task = (await client.post(f"/api/{user}/tasks", json={"title": f"t{n}"})).json()
        if n % 2 == 0:
            await client.patch(f"/api/{user}/tasks/{task['id']}/complete")
            done.append(task["id"])
    pages = await follow_pages(client, f"/api/{user}/tasks?completed=true&limit=2")
    assert [i for page in pages for i in page] == done[::-1]
    response = await client.get(f"/api/{user}/tasks?completed=false")
    assert all(not t["completed"] for t in response.json())
    assert len(response.json()) == 2
    link = (await client.get(f"/api/{user}/tasks?completed=true&limit=1")).headers["link"]
    assert parse_qs(urlsplit(link[1 : link.index(">")]).query)["completed"] == ["true"]


async def test_without_a_limit_the_list_holds_every_task(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    """The CRUD service's clients never page: 105 tasks come back as 105, with no Link."""
    user = random_user()
    ids = await seed_with_one_creation_time(pool, user, 105)
    response = await client.get(f"/api/{user}/tasks")
    assert {t["id"] for t in response.json()} == ids
    assert len(response.json()) == 105
    assert "link" not in response.headers


async def test_with_a_limit_the_list_pages_as_asked(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    ids = await seed_with_one_creation_time(pool, user, 105)
    first = await client.get(f"/api/{user}/tasks?limit=100")
    assert len(first.json()) == 100
    pages = await follow_pages(client, f"/api/{user}/tasks?limit=100")
    assert [len(p) for p in pages] == [100, 5]
    assert {i for page in pages for i in page} == ids
    # A cursor without a limit (made by hand: the Link always carries one) pages at 100.
    cursor = parse_qs(urlsplit(first.headers["link"][1:-13]).query)["cursor"][0]
    rest = await client.get(f"/api/{user}/tasks?cursor={cursor}")
    assert [t["id"] for t in rest.json()] == pages[1]


async def test_one_task_carries_its_etag_and_a_matching_if_none_match_gets_304(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    url = f"/api/{user}/tasks/{task['id']}"
    response = await client.get(url)
    assert (response.status_code, response.json(), response.headers["etag"]) == (200, task, '"1"')
    cached = await client.get(url, headers={"If-None-Match": '"1"'})
    assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", '"1"')
    await client.patch(f"{url}/complete")
    fresh = await client.get(url, headers={"If-None-Match": '"1"'})
    assert (fresh.status_code, fresh.json()["version"]) == (200, 2)


async def test_the_list_shows_each_task_exactly_as_getting_it_does(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    """PostgreSQL writes the list's JSON, the service the single task's: the same answers,
    for awkward text too, and a time with zero microseconds still shows six digits."""
    user = random_user()
    titles = ['quote " and backslash \\', "tab\tand é ✓ 🙂", "line\nbreak </script>"]
    for title in titles:
        await client.post(f"/api/{user}/tasks", json={"title": title, "description": title})
    await client.post(f"/api/{user}/tasks", json={"title": "no description"})
    await seed_with_one_creation_time(pool, user, 1)
    listed = (await client.get(f"/api/{user}/tasks")).json()
    assert len(listed) == 5
    for task in listed:
        one = await client.get(f"/api/{user}/tasks/{task['id']}")
        assert one.json() == task
        assert list(task) == list(one.json())
    assert listed[-1]["created_at"] == "2026-01-01T00:00:00.000000Z"
    assert {t["title"] for t in listed} >= set(titles)


async def test_the_list_is_byte_for_byte_the_tasks_as_a_single_get_encodes_them(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    """PostgreSQL writes the list's JSON, Python a single task's: the same bytes, keys in
    TaskOut's order, times with six digits of microseconds even when they are zero."""
    user = random_user()
    titles = ['quote " and \\ backslash', "tab\tnew\nline", "café ünïcode ✓", "plain"]
    at = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    async with pool.acquire() as conn:
        for n, title in enumerate(titles):
            task = new_task(user, title, at.replace(second=n, microsecond=n * 7))
            await create(conn, task)
    ids = [t["id"] for t in (await client.get(f"/api/{user}/tasks")).json()]
    toggled = await client.patch(f"/api/{user}/tasks/{ids[0]}/complete")
    described = await client.put(f"/api/{user}/tasks/{ids[1]}", json={"description": "d"})
    assert (toggled.status_code, described.status_code) == (200, 200)
    singles = [(await client.get(f"/api/{user}/tasks/{i}")).content for i in ids]
    listed = (await client.get(f"/api/{user}/tasks")).content
    assert listed == b"[" + b",".join(singles) + b"]"
    assert b'"created_at":"2026-01-01T12:00:00.000000Z"' in listed
