"""Events in an older shape, written straight into the log as an old deployment would have."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg

# A hypothetical earlier TaskCreated (schema version 0) that called the title `name`,
# the description `notes` and completion `done`.
OLD_CREATED = {"name": "Buy milk", "notes": "2 litres", "done": False}


def created_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {"title": data["name"], "description": data["notes"], "completed": data["done"]}


async def write_raw(conn: asyncpg.Connection, user: str, rows: list[tuple]) -> Any:
    """Insert rows as an old deployment would have, in the caller's transaction, and give
    them their positions (the sequencer's lock then stays held until that transaction ends)."""
    stream_id = uuid4()
    for version, type_name, data, schema_version in rows:
        await conn.execute(
            "INSERT INTO pending_events (user_id, stream_id, version, type, data, metadata,"
            " recorded_at) VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7)",
            user,
            stream_id,
            version,
            type_name,
            json.dumps(data),
            json.dumps({"actor": user, "schema_version": schema_version}),
            datetime(2020, 1, version, tzinfo=UTC),
        )
    await conn.execute("SELECT sequence_events()")
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
