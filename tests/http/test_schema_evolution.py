"""An event stored in an older shape is shown in the current shape by the history endpoint
and by time travel."""

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.db import init_connection
from app.runtime.migrate import migrate_url
from app.settings import Settings
from tests.support.legacy import OLD_CREATED, write_raw
from tests.support.random_refs import random_user
from tests.support.servers import signed_client


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
