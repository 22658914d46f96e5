"""The append path against a real PostgreSQL: appends wait for nobody, and the sequencer gives
committed events dense positions, in each stream's version order, never an uncommitted one."""

import asyncio

import asyncpg
import pytest
from msgspec import structs

from app.runtime.db import init_connection
from app.storage import event_store
from events.types import TaskToggled
from tests.support.random_refs import random_user
from tests.support.seed import new_task, queue


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


async def test_an_append_does_not_wait_for_another_users_open_transaction(
    migrated_url: str,
) -> None:
    """With one global lock held to commit, the second append would wait for the first's
    commit and hit the statement timeout: now it commits at once."""
    first, second = await connect(migrated_url), await connect(migrated_url)
    try:
        async with first.transaction():
            await queue(first, new_task(random_user()))  # left uncommitted
            await second.execute("SET statement_timeout = '2s'")
            await asyncio.wait_for(queue(second, new_task(random_user())), timeout=5)
    finally:
        await first.close()
        await second.close()


async def test_only_committed_events_are_sequenced_and_the_rest_wait_their_turn(
    migrated_url: str, pool: asyncpg.Pool
) -> None:
    writer = await connect(migrated_url)
    open_task, committed_task = new_task(random_user()), new_task(random_user())
    try:
        async with writer.transaction():
            await queue(writer, open_task)
            async with pool.acquire() as conn:
                await queue(conn, committed_task)
                await event_store.sequence(conn)
                assert await positions(conn, committed_task.user_id) != []
                assert await positions(conn, open_task.user_id) == []  # not committed yet
        async with pool.acquire() as conn:
            await event_store.sequence(conn)
            later = await positions(conn, open_task.user_id)
            earlier = await positions(conn, committed_task.user_id)
        assert later[0] > earlier[0], "numbered when it committed, after the other"
    finally:
        await writer.close()


async def test_positions_are_dense_and_each_stream_is_numbered_in_version_order(
    pool: asyncpg.Pool,
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        await event_store.sequence(conn)
        head = await event_store.head(conn)
        tasks = [new_task(user) for _ in range(3)]
        for task in tasks:
            await queue(conn, task)
            toggled = structs.replace(task, completed=True, version=2)
            await event_store.append(
                conn,
                state=toggled,
                expected_version=1,
                events=[TaskToggled(completed=True)],
                metadata={},
                recorded_at=task.created_at,
            )
        # a live app's sequencer may move some of them first: what counts is the log after
        await event_store.sequence(conn)
        rows = await conn.fetch(
            "SELECT position, stream_id, version FROM events WHERE position > $1 ORDER BY position",
            head,
        )
        assert await event_store.head(conn) == rows[-1]["position"]
    assert [r["position"] for r in rows] == list(range(head + 1, head + 1 + len(rows)))
    for task in tasks:
        assert [r["version"] for r in rows if r["stream_id"] == task.id] == [1, 2]


async def test_a_create_with_an_id_the_log_has_seen_is_refused(pool: asyncpg.Pool) -> None:
    """A deleted task's read row is gone; the log still knows its id, and the sequencer must
    never meet a key the log already holds."""
    task = new_task(random_user())
    async with pool.acquire() as conn:
        await queue(conn, task)
        await event_store.sequence(conn)
        await conn.execute("DELETE FROM tasks WHERE user_id = $1", task.user_id)
        with pytest.raises(event_store.VersionConflict):
            await queue(conn, task)
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pending_events WHERE user_id = $1", task.user_id
            )
            == 0
        )


async def positions(conn: asyncpg.Connection, user: str) -> list[int]:
    rows = await conn.fetch("SELECT position FROM events WHERE user_id = $1", user)
    return [r["position"] for r in rows]
