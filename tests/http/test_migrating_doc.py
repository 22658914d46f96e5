"""docs/migrating.md's right-hand column, request by request: what an old CRUD client meets."""

from litestar.testing import AsyncTestClient

from tests.support.random_refs import random_user

PROBLEM = "application/problem+json"


def fields(response: object) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]  # type: ignore[attr-defined]


async def test_what_an_old_client_meets_when_it_writes(client: AsyncTestClient) -> None:
    user = random_user()
    tasks = f"/api/{user}/tasks"
    anonymous = await client.get(tasks, headers={"Authorization": ""})
    assert (anonymous.status_code, anonymous.headers["content-type"]) == (401, PROBLEM)
    assert (await client.get("/api/has space/tasks")).status_code == 400
    created = await client.post(tasks, json={"title": "  Buy milk  "})
    assert created.status_code == 201
    task = created.json()
    assert task["title"] == "Buy milk"
    assert task["created_at"] == task["updated_at"] and task["version"] == 1
    assert created.headers["location"] == f"{tasks}/{task['id']}"
    assert created.headers["etag"] == '"1"'
    unknown = await client.post(tasks, json={"title": "x", "completed": True})
    assert (unknown.status_code, fields(unknown)) == (400, ["completed"])
    url = f"{tasks}/{task['id']}"
    for body, field in (({"completed": "true"}, "completed"), ({"completed": 1}, "completed")):
        coerced = await client.put(url, json=body)
        assert (coerced.status_code, fields(coerced)) == (400, [field])
    nulled = await client.put(url, json={"title": None})
    assert (nulled.status_code, fields(nulled)) == (400, ["title"])
    assert (await client.post(tasks, json={"title": "   "})).status_code == 400
    long = await client.post(tasks, json={"title": "x", "description": "d" * 2000})
    assert long.status_code == 201
    assert (
        await client.post(tasks, json={"title": "x", "description": "d" * 2001})
    ).status_code == 400
    text = await client.post(tasks, content=b"hi", headers={"Content-Type": "text/plain"})
    assert (text.status_code, text.headers["content-type"]) == (415, PROBLEM)


async def test_what_stays_as_it_was(client: AsyncTestClient) -> None:
    user = random_user()
    tasks = f"/api/{user}/tasks"
    ids = [(await client.post(tasks, json={"title": f"t{n}"})).json()["id"] for n in range(3)]
    assert [t["id"] for t in (await client.get(tasks)).json()] == ids[::-1]
    assert (await client.patch(f"{tasks}/{ids[0]}/complete")).json()["completed"] is True
    assert (await client.delete(f"{tasks}/{ids[0]}")).status_code == 204
    missing = await client.get(f"{tasks}/{ids[0]}")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert (await client.get(f"{tasks}/not-a-uuid")).status_code == 404
    assert (await client.get("/health")).json() == {"status": "ok"}
