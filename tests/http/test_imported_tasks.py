"""Tasks brought in from the CRUD service, through the real app: listed in their old order with
their old times, and honest in history, time travel, the feeds and the export."""

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import asyncpg
from litestar.testing import AsyncTestClient

from app.analytics.export import Filters, export
from app.storage.crud_import import import_batch
from tests.support.crud import old_tasks
from tests.support.random_refs import random_user

META = {"actor": "import-crud", "request_id": "import-http", "schema_version": 1}


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def imported(pool: asyncpg.Pool, user: str, count: int) -> list[dict]:
    rows = [t._asdict() for t in old_tasks(user, count)]
    async with pool.acquire() as conn, conn.transaction():
        done = await import_batch(conn, rows, META, dry_run=False)
    assert done.imported == count
    return rows


async def test_imported_tasks_are_listed_and_served_with_their_old_times(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    old = await imported(pool, user, 3)
    new = (await client.post(f"/api/{user}/tasks", json={"title": "made here"})).json()
    listed = (await client.get(f"/api/{user}/tasks")).json()
    # Newest created_at first: the task made today, then the old ones, newest first.
    assert [t["id"] for t in listed] == [new["id"], *(str(t["id"]) for t in old[::-1])]
    one = await client.get(f"/api/{user}/tasks/{old[0]['id']}")
    assert one.json() == {
        "id": str(old[0]["id"]),
        "user_id": user,
        "title": old[0]["title"].strip(),
        "description": old[0]["description"],
        "completed": old[0]["completed"],
        "created_at": rfc3339(old[0]["created_at"]),
        "updated_at": rfc3339(old[0]["updated_at"]),
        "version": 1,
    }
    assert one.headers["etag"] == '"1"'


async def test_history_and_time_travel_say_when_the_log_learnt_of_the_task(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    before_import = datetime.now(UTC)
    (old,) = await imported(pool, user, 1)
    url = f"/api/{user}/tasks/{old['id']}"
    await client.patch(f"{url}/complete")
    history = (await client.get(f"{url}/history")).json()
    assert [(e["version"], e["type"]) for e in history] == [(1, "TaskImported"), (2, "TaskToggled")]
    assert history[0]["data"] == {
        "title": old["title"].strip(),
        "description": old["description"],
        "completed": old["completed"],
        "created_at": rfc3339(old["created_at"]),
        "updated_at": rfc3339(old["updated_at"]),
    }
    assert history[0]["metadata"]["actor"] == "import-crud"
    imported_at = datetime.fromisoformat(history[0]["recorded_at"])
    assert imported_at >= before_import
    # Before the import the log knew nothing of it, even though the old service did.
    at_creation = await client.get(f"{url}?as_of={quote(rfc3339(old['created_at']))}")
    assert at_creation.status_code == 404
    then = await client.get(f"{url}?version=1")
    assert (then.json()["completed"], then.json()["created_at"]) == (
        old["completed"],
        rfc3339(old["created_at"]),
    )
    later = await client.get(
        f"{url}?as_of={quote(rfc3339(imported_at + timedelta(microseconds=1)))}"
    )
    assert later.json()["version"] == 1


async def test_the_feeds_and_the_export_carry_the_import_events(
    client: AsyncTestClient, pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    old = await imported(pool, user, 2)
    mine = (await client.get(f"/api/{user}/events?after=0")).json()["events"]
    # One batch is one transaction: the sequencer numbers its events in stream id order.
    assert [(e["type"], e["stream_id"]) for e in mine] == sorted(
        ("TaskImported", str(t["id"])) for t in old
    )
    audited = await client.get(f"/api/events?type=TaskImported&user_id={user}&after=0")
    assert audited.status_code == 200, audited.text
    assert [e["position"] for e in audited.json()["events"]] == [e["position"] for e in mine]
    out = io.BytesIO()
    await export(migrated_url, "ndjson", Filters(user_id=user), out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == mine
