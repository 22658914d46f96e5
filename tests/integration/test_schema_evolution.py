"""An event stored in an older shape, written straight into the log, is read and folded in the
current shape: through the store, the history endpoint and time travel."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.db import init_connection
from app.runtime.migrate import migrate_url
from app.settings import Settings
from app.storage import event_store
from events import upcast as upcasting
from events.evolve import fold
from tests.conftest import signed_client
from tests.random_refs import random_user

# A hypothetical earlier TaskCreated (schema version 0) that called the title `name`,
# the description `notes` and completion `done`.
OLD_CREATED = {"name": "Buy milk", "notes": "2 litres", "done": False}


def created_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {"title": data["name"], "description": data["notes"], "completed": data["done"]}


async def write_raw(conn: asyncpg.Connection, user: str, rows: list[tuple]) -> Any:
    """Insert rows as an old deployment would have, in the caller's transaction; the append
    lock keeps the feed gap-free."""
    stream_id = uuid4()
    await conn.execute("SELECT pg_advisory_xact_lock(tasks_lock_key('append'))")
    for version, type_name, data, schema_version in rows:
        await conn.execute(
            "INSERT INTO events (user_id, stream_id, version, type, data, metadata,"
            " recorded_at) VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7)",
            user,
            stream_id,
            version,
            type_name,
            json.dumps(data),
            json.dumps({"actor": user, "schema_version": schema_version}),
            datetime(2020, 1, version, tzinfo=UTC),
        )
    return stream_id


@asynccontextmanager
async def rolled_back(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction undone at the end, so no legacy row outlives the test: any reader of
    the whole log (rebuild, verify, export) in a shared database would need the upcaster."""
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
def legacy_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(upcasting.UPCASTERS, ("TaskCreated", 0), created_v0_to_v1)


async def test_an_old_shaped_event_folds_into_the_current_task(
    pool: asyncpg.Pool, legacy_upcaster: None
) -> None:
    user = random_user()
    async with rolled_back(pool) as conn:
        stream_id = await write_raw(
            conn,
            user,
            [(1, "TaskCreated", OLD_CREATED, 0), (2, "TaskToggled", {"completed": True}, 1)],
        )
        events = await event_store.read_stream(conn, user, stream_id)
    task = fold(events)
    assert task is not None
    assert (task.title, task.description, task.completed, task.version) == (
        "Buy milk",
        "2 litres",
        True,
        2,
    )
    assert task.created_at == datetime(2020, 1, 1, tzinfo=UTC)


async def test_the_history_and_time_travel_show_the_current_shape(
    fresh_database: str, settings: Settings, legacy_upcaster: None
) -> None:
    # Committed, since the app reads on its own connections: in a database of its own, as the
    # log is append-only and a whole-log reader elsewhere would not know this old shape.
    await migrate_url(fresh_database)
    user = random_user()
    conn = await asyncpg.connect(fresh_database)
    try:
        await init_connection(conn)
        stream_id = await write_raw(conn, user, [(1, "TaskCreated", OLD_CREATED, 0)])
    finally:
        await conn.close()
    app = create_app(settings.model_copy(update={"database_url": fresh_database}))
    async with signed_client(app) as client:
        await show_current_shape(client, user, stream_id)


async def show_current_shape(client: AsyncTestClient, user: str, stream_id: Any) -> None:
    history = (await client.get(f"/api/{user}/tasks/{stream_id}/history")).json()
    assert history[0]["data"] == {
        "title": "Buy milk",
        "description": "2 litres",
        "completed": False,
    }
    assert history[0]["metadata"]["schema_version"] == 0  # as stored
    then = (await client.get(f"/api/{user}/tasks/{stream_id}?version=1")).json()
    assert (then["title"], then["description"]) == ("Buy milk", "2 litres")


async def test_without_its_upcaster_an_old_shape_is_refused_by_name(pool: asyncpg.Pool) -> None:
    user = random_user()
    async with rolled_back(pool) as conn:
        stream_id = await write_raw(conn, user, [(1, "TaskCreated", OLD_CREATED, 0)])
        with pytest.raises(LookupError, match="TaskCreated from schema version 0"):
            await event_store.read_stream(conn, user, stream_id)
