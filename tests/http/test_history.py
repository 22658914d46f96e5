"""A task's history and time travel through the real app: served from the log, also after deletion."""

from datetime import datetime, timedelta
from urllib.parse import quote
from uuid import uuid4

from litestar.testing import AsyncTestClient

from tests.support.random_refs import random_user


async def a_task_with_a_past(client: AsyncTestClient, user: str) -> tuple[str, list[dict]]:
    """Create, rename and complete (one PUT: two events), uncomplete, delete.

    Returns the task's url and the task as each command answered (versions 1, 3, 4).
    """
    created = await client.post(f"/api/{user}/tasks", json={"title": "Buy milk"})
    url = f"/api/{user}/tasks/{created.json()['id']}"
    put = await client.put(
        url, json={"title": "Buy oat milk", "completed": True}, headers={"X-Request-ID": "put-1"}
    )
    toggled = await client.patch(f"{url}/complete")
    assert (await client.delete(url)).status_code == 204
    return url, [created.json(), put.json(), toggled.json()]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def rfc3339(moment: datetime) -> str:
    return quote(moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


async def test_the_history_lists_every_event_in_version_order_also_after_deletion(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    url, answers = await a_task_with_a_past(client, user)
    assert (await client.get(url)).status_code == 404
    response = await client.get(f"{url}/history")
    assert response.status_code == 200
    events = response.json()
    assert [(e["version"], e["type"], e["data"]) for e in events] == [
        (1, "TaskCreated", {"title": "Buy milk", "description": None, "completed": False}),
        (2, "TaskUpdated", {"title": "Buy oat milk"}),
        (3, "TaskToggled", {"completed": True}),
        (4, "TaskToggled", {"completed": False}),
        (5, "TaskDeleted", {}),
    ]
    positions = [e["position"] for e in events]
    assert positions == sorted(set(positions))
    assert {(e["stream_id"], e["user_id"]) for e in events} == {(answers[0]["id"], user)}
    assert events[0]["recorded_at"] == answers[0]["created_at"]
    assert all(e["recorded_at"].endswith("Z") and len(e["recorded_at"]) == 27 for e in events)
    assert set(events[0]) == {
        "position",
        "stream_id",
        "version",
        "user_id",
        "type",
        "data",
        "metadata",
        "recorded_at",
    }


async def test_every_event_records_its_request_id_actor_and_schema_version(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    url, _ = await a_task_with_a_past(client, user)
    metadata = [e["metadata"] for e in (await client.get(f"{url}/history")).json()]
    assert all(m["actor"] == user and m["schema_version"] == 1 for m in metadata)
    # The PUT's two events share the caller's request id; other requests got fresh ones.
    assert metadata[1]["request_id"] == metadata[2]["request_id"] == "put-1"
    made = [m["request_id"] for m in (metadata[0], metadata[3], metadata[4])]
    assert len(set(made)) == 3 and "put-1" not in made
    response = await client.post(f"/api/{user}/tasks", json={"title": "x"})
    history = (await client.get(f"/api/{user}/tasks/{response.json()['id']}/history")).json()
    assert history[0]["metadata"]["request_id"] == response.headers["x-request-id"]


async def test_a_stream_the_user_never_had_has_no_history(client: AsyncTestClient) -> None:
    user = random_user()
    url, _ = await a_task_with_a_past(client, user)
    task_id = url.rsplit("/", 1)[1]
    for other in (f"/api/{random_user()}/tasks/{task_id}", f"/api/{user}/tasks/{uuid4()}"):
        response = await client.get(f"{other}/history")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(f"{other}?version=1")).status_code == 404


async def test_each_version_reads_back_as_the_command_answered_it_with_its_etag(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    url, answers = await a_task_with_a_past(client, user)
    for answer in answers:
        response = await client.get(f"{url}?version={answer['version']}")
        assert (response.status_code, response.json()) == (200, answer)
        assert response.headers["etag"] == f'"{answer["version"]}"'
    between = (await client.get(f"{url}?version=2")).json()
    assert (between["title"], between["completed"], between["version"]) == (
        "Buy oat milk",
        False,
        2,
    )
    cached = await client.get(f"{url}?version=2", headers={"If-None-Match": '"2"'})
    assert (cached.status_code, cached.headers["etag"]) == (304, '"2"')


async def test_as_of_a_time_gives_the_task_after_the_last_event_recorded_by_then(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    url, answers = await a_task_with_a_past(client, user)
    times = [at(e["recorded_at"]) for e in (await client.get(f"{url}/history")).json()]
    tick = timedelta(microseconds=1)
    expected = {
        times[0]: 1,  # the creation's own time is included
        times[2] - tick: 1,
        times[2]: 3,  # the PUT's two events share one time
        times[3] - tick: 3,
        times[3]: 4,
        times[4] - tick: 4,
    }
    for moment, version in expected.items():
        response = await client.get(f"{url}?as_of={rfc3339(moment)}")
        assert (response.status_code, response.json()["version"]) == (200, version), moment
        assert response.headers["etag"] == f'"{version}"'
    assert (await client.get(f"{url}?as_of={rfc3339(times[3])}")).json() == answers[2]


async def test_before_creation_after_deletion_or_beyond_the_last_version_is_404(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    url, _ = await a_task_with_a_past(client, user)
    times = [at(e["recorded_at"]) for e in (await client.get(f"{url}/history")).json()]
    cases = {
        f"as_of={rfc3339(times[0] - timedelta(microseconds=1))}": "did not exist yet",
        f"as_of={rfc3339(times[4])}": "was deleted at version 5",
        "version=5": "was deleted at version 5",
        "version=6": "there is no version 6",
    }
    for query, detail in cases.items():
        response = await client.get(f"{url}?{query}")
        assert response.status_code == 404, query
        assert response.headers["content-type"].startswith("application/problem+json")
        assert detail in response.json()["detail"]


async def test_malformed_or_conflicting_time_travel_is_400(client: AsyncTestClient) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    url = f"/api/{user}/tasks/{task['id']}"
    for query, field in {
        "version=0": "version",
        "version=-1": "version",
        "version=two": "version",
        "version=99999999999999999999": "version",
        "as_of=yesterday": "as_of",
        "as_of=2026-01-01": "as_of",
        "as_of=2026-01-01T00:00:00": "as_of",  # no offset: which zone?
        "as_of=2026-01-01T00:00:00+01:00": "as_of",  # an unencoded + arrives as a space
        f"version=1&as_of={quote(task['created_at'])}": "as_of",
    }.items():
        response = await client.get(f"{url}?{query}")
        assert response.status_code == 400, query
        assert [e["field"] for e in response.json()["errors"]] == [field], query
    offset = await client.get(f"{url}?as_of={quote('2999-01-01T01:00:00.123456789+01:00')}")
    assert (offset.status_code, offset.json()) == (200, task)
