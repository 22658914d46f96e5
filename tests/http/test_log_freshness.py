"""Read-your-writes for the log: a read of the log that starts after a command's 2xx includes
its events, whether or not the background sequencer has got to them yet.

The app here never leads (the test holds the leader's lock), so its background sequencer
never runs: every position these reads see was given by the read itself.
"""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.locks import lock_key
from app.runtime.migrate import migrate_url
from app.settings import Settings
from tests.support.random_refs import random_user
from tests.support.servers import signed_client


@pytest.fixture
async def leaderless_client(
    fresh_database: str, settings: Settings
) -> AsyncIterator[AsyncTestClient]:
    await migrate_url(fresh_database)
    holder = await asyncpg.connect(fresh_database)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", lock_key("leader"))
        app = create_app(settings.model_copy(update={"database_url": fresh_database}))
        async with signed_client(app) as client:
            yield client
        assert await holder.fetchval("SELECT count(*) FROM pending_events") == 0
    finally:
        await holder.close()


async def test_every_read_of_the_log_sees_the_command_just_acknowledged(
    leaderless_client: AsyncTestClient,
) -> None:
    client, user = leaderless_client, random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "Buy milk"})).json()
    url = f"/api/{user}/tasks/{task['id']}"

    history = (await client.get(f"{url}/history")).json()
    assert [(e["version"], e["type"]) for e in history] == [(1, "TaskCreated")]
    assert history[0]["position"] >= 1

    assert (await client.patch(f"{url}/complete")).status_code == 200
    mine = (await client.get(f"/api/{user}/events")).json()["events"]
    assert [e["type"] for e in mine] == ["TaskCreated", "TaskToggled"]
    everyone = (await client.get("/api/events")).json()["events"]
    assert [e["stream_id"] for e in everyone][-2:] == [task["id"], task["id"]]

    assert (await client.put(url, json={"title": "Buy oat milk"})).status_code == 200
    then = await client.get(f"{url}?version=3")
    assert (then.status_code, then.json()["title"]) == (200, "Buy oat milk")
