"""Commands through the real app: each appends the API page's events and answers as it says."""

from uuid import UUID

import asyncpg
from litestar.testing import AsyncTestClient

from app.storage import event_store
from tests.support.random_refs import random_user


async def events_of(pool: asyncpg.Pool, user: str, task_id: str) -> list[tuple[str, dict]]:
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        stream = await event_store.read_stream(conn, user, UUID(task_id))
    return [(e.type, dict(_data(e.event))) for e in stream]


def _data(event: object) -> dict:
    from events.types import event_data

    return event_data(event)  # type: ignore[arg-type]


async def create(client: AsyncTestClient, user: str, **body: object) -> dict:
    response = await client.post(f"/api/{user}/tasks", json={"title": "Buy milk", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_answers_201_with_location_etag_and_the_task(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    response = await client.post(
        f"/api/{user}/tasks", json={"title": "  Buy milk \n", "description": "2 litres"}
    )
    assert response.status_code == 201
    task = response.json()
    assert response.headers["location"] == f"/api/{user}/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert task["title"] == "Buy milk"
    assert (task["user_id"], task["description"], task["completed"], task["version"]) == (
        user,
        "2 litres",
        False,
        1,
    )
    assert task["created_at"] == task["updated_at"]
    assert task["created_at"].endswith("Z") and len(task["created_at"]) == 27
    assert UUID(task["id"]).version == 4
    assert await events_of(pool, user, task["id"]) == [
        ("TaskCreated", {"title": "Buy milk", "description": "2 litres", "completed": False})
    ]


async def test_put_appends_an_update_for_changed_fields_and_a_toggle_for_completion(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task = await create(client, user)
    response = await client.put(
        f"/api/{user}/tasks/{task['id']}",
        json={"title": "Buy oat milk", "description": None, "completed": True},
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"3"'
    body = response.json()
    assert (body["title"], body["description"], body["completed"], body["version"]) == (
        "Buy oat milk",
        None,
        True,
        3,
    )
    assert body["updated_at"] > body["created_at"] == task["created_at"]
    assert (await events_of(pool, user, task["id"]))[1:] == [
        ("TaskUpdated", {"title": "Buy oat milk"}),
        ("TaskToggled", {"completed": True}),
    ]


async def test_put_that_changes_nothing_appends_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task = await create(client, user)
    for body in ({}, {"title": "Buy milk"}, {"completed": False, "description": None}):
        response = await client.put(f"/api/{user}/tasks/{task['id']}", json=body)
        assert response.status_code == 200
        assert response.json() == task
        assert response.headers["etag"] == '"1"'
    assert len(await events_of(pool, user, task["id"])) == 1


async def test_patch_complete_toggles_and_appends_a_toggle_each_time(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task = await create(client, user)
    first = await client.patch(f"/api/{user}/tasks/{task['id']}/complete")
    second = await client.patch(f"/api/{user}/tasks/{task['id']}/complete")
    assert (first.status_code, first.json()["completed"], first.headers["etag"]) == (
        200,
        True,
        '"2"',
    )
    assert (second.json()["completed"], second.json()["version"]) == (False, 3)
    assert [t for t, _ in await events_of(pool, user, task["id"])] == [
        "TaskCreated",
        "TaskToggled",
        "TaskToggled",
    ]


async def test_delete_answers_204_appends_a_deletion_and_the_task_is_gone(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task = await create(client, user)
    url = f"/api/{user}/tasks/{task['id']}"
    response = await client.delete(url)
    assert (response.status_code, response.content) == (204, b"")
    assert (await events_of(pool, user, task["id"]))[-1] == ("TaskDeleted", {})
    assert (await client.get(url)).status_code == 404
    assert (await client.get(f"/api/{user}/tasks")).json() == []
    assert (await client.put(url, json={"title": "x"})).status_code == 404
    assert (await client.patch(f"{url}/complete")).status_code == 404
    assert (await client.delete(url)).status_code == 404
    assert len(await events_of(pool, user, task["id"])) == 2


async def test_if_match_with_the_current_version_succeeds(client: AsyncTestClient) -> None:
    user = random_user()
    task = await create(client, user)
    url = f"/api/{user}/tasks/{task['id']}"
    response = await client.put(url, json={"title": "x"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200
    response = await client.patch(f"{url}/complete", headers={"If-Match": 'W/"2"'})
    assert response.status_code == 200
    response = await client.delete(url, headers={"If-Match": '"3"'})
    assert response.status_code == 204


async def test_if_match_with_a_stale_version_gets_412_and_changes_nothing(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task = await create(client, user)
    url = f"/api/{user}/tasks/{task['id']}"
    await client.patch(f"{url}/complete")
    stale = {"If-Match": '"1"'}
    for response in (
        await client.put(url, json={"title": "x"}, headers=stale),
        await client.put(url, json={}, headers=stale),
        await client.patch(f"{url}/complete", headers=stale),
        await client.delete(url, headers=stale),
    ):
        assert response.status_code == 412
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 412
    assert len(await events_of(pool, user, task["id"])) == 2
    assert (await client.get(url)).json()["completed"] is True


async def test_another_users_task_is_not_found_for_every_command(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    owner, other = random_user(), random_user()
    task = await create(client, owner)
    url = f"/api/{other}/tasks/{task['id']}"
    assert (await client.get(url)).status_code == 404
    assert (await client.put(url, json={"title": "mine"})).status_code == 404
    assert (await client.patch(f"{url}/complete")).status_code == 404
    assert (await client.delete(url)).status_code == 404
    assert len(await events_of(pool, owner, task["id"])) == 1


async def test_without_replicas_a_command_carries_no_consistency_token(
    client: AsyncTestClient,
) -> None:
    """docs/scaling.md: the header comes with replicas only (test_replicas covers that side)."""
    created = await client.post(f"/api/{random_user()}/tasks", json={"title": "x"})
    assert created.status_code == 201
    assert "x-consistency-token" not in created.headers
