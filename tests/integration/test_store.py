"""The event store against a real PostgreSQL: append, conflicts, reading a stream."""

import asyncpg
import pytest
from msgspec import structs

from app.storage import event_store
from app.storage.tasks import get_task
from events.types import TaskCreated, TaskToggled, TaskUpdated
from tests.support.random_refs import random_user
from tests.support.seed import create, new_task


async def test_appended_events_are_read_back_in_version_order_with_their_envelope(
    pool: asyncpg.Pool,
) -> None:
    task = new_task(random_user(), "Buy milk")
    async with pool.acquire() as conn:
        async with conn.transaction():
            await event_store.append(
                conn,
                state=task,
                expected_version=0,
                events=[TaskCreated(title="Buy milk")],
                metadata={"request_id": "r1", "actor": task.user_id},
                recorded_at=task.created_at,
            )
            later = task.created_at.replace(
                microsecond=(task.created_at.microsecond + 1) % 1_000_000
            )
            moved = structs.replace(
                task, title="Buy oat milk", completed=True, version=3, updated_at=later
            )
            await event_store.append(
                conn,
                state=moved,
                expected_version=1,
                events=[TaskUpdated(title="Buy oat milk"), TaskToggled(completed=True)],
                metadata={"request_id": "r2", "actor": task.user_id},
                recorded_at=later,
            )
            # Queued, not in the log (and uncommitted, so no sequencer can move them yet).
            assert await event_store.read_stream(conn, task.user_id, task.id) == []
        await event_store.sequence(conn)  # (or a live app's sequencer did it first)
        stream = await event_store.read_stream(conn, task.user_id, task.id)
        row = await get_task(conn, task.user_id, task.id)
    assert [(e.version, e.type) for e in stream] == [
        (1, "TaskCreated"),
        (2, "TaskUpdated"),
        (3, "TaskToggled"),
    ]
    assert [e.position for e in stream] == sorted(e.position for e in stream)
    assert stream[1].metadata == {"request_id": "r2", "actor": task.user_id, "schema_version": 1}
    assert stream[2].recorded_at == later
    assert row == moved


async def test_an_append_with_a_stale_expected_version_fails_and_writes_nothing(
    pool: asyncpg.Pool,
) -> None:
    task = new_task(random_user(), "Buy milk")
    async with pool.acquire() as conn:
        await event_store.append(
            conn,
            state=task,
            expected_version=0,
            events=[TaskCreated(title="Buy milk")],
            metadata={},
            recorded_at=task.created_at,
        )
        with pytest.raises(event_store.VersionConflict):
            await event_store.append(
                conn,
                state=task,
                expected_version=0,
                events=[TaskCreated(title="again")],
                metadata={},
                recorded_at=task.created_at,
            )
        toggled = structs.replace(task, completed=True, version=2)
        with pytest.raises(event_store.VersionConflict):
            await event_store.append(
                conn,
                state=toggled,
                expected_version=5,
                events=[TaskToggled(completed=True)],
                metadata={},
                recorded_at=task.created_at,
            )
        await event_store.sequence(conn)
        stream = await event_store.read_stream(conn, task.user_id, task.id)
        row = await get_task(conn, task.user_id, task.id)
    assert [e.version for e in stream] == [1]
    assert row == task


async def test_another_users_stream_reads_as_empty(pool: asyncpg.Pool) -> None:
    task = new_task(random_user(), "Buy milk")
    async with pool.acquire() as conn:
        await event_store.append(
            conn,
            state=task,
            expected_version=0,
            events=[TaskCreated(title="Buy milk")],
            metadata={},
            recorded_at=task.created_at,
        )
        assert await event_store.read_stream(conn, random_user(), task.id) == []
        assert await get_task(conn, random_user(), task.id) is None


async def test_the_feed_returns_events_after_a_position_in_log_order(pool: asyncpg.Pool) -> None:
    user = random_user()
    positions = []
    async with pool.acquire() as conn:
        for _ in range(3):
            task = new_task(user, "Buy milk")
            positions.append(await create(conn, task))
        mine = await event_store.read_feed(conn, after=positions[0], limit=10, user_id=user)
        # Other tests of the session may write meanwhile: ours must come in order among theirs.
        everyone = await event_store.read_feed(conn, after=positions[0], limit=1000)
        two = await event_store.read_feed(conn, after=positions[0], limit=2)
    assert [e.position for e in mine] == positions[1:]
    assert [e.position for e in everyone if e.user_id == user] == positions[1:]
    assert [e.position for e in everyone] == sorted({e.position for e in everyone})
    assert two == everyone[:2]
