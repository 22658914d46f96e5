"""An event stored in an older shape, written straight into the log, is read and folded in the
current shape through the store (the HTTP side: tests/http/test_schema_evolution.py)."""

from datetime import UTC, datetime

import asyncpg
import pytest

from app.storage import event_store
from events.evolve import fold
from tests.support.legacy import OLD_CREATED, rolled_back, write_raw
from tests.support.random_refs import random_user


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


async def test_without_its_upcaster_an_old_shape_is_refused_by_name(pool: asyncpg.Pool) -> None:
    user = random_user()
    async with rolled_back(pool) as conn:
        stream_id = await write_raw(conn, user, [(1, "TaskCreated", OLD_CREATED, 0)])
        with pytest.raises(LookupError, match="TaskCreated from schema version 0"):
            await event_store.read_stream(conn, user, stream_id)
