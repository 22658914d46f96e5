"""tasks rebuild: the read table replayed from the log into a fresh table and swapped in."""

from datetime import UTC, datetime

import asyncpg
from msgspec import structs

from app.runtime.db import init_connection
from app.storage import event_store
from app.storage.tasks import get_task
from events.state import Task
from events.types import TaskToggled
from tests.support.replay import fill_log, read_table, rebuild_now, verify_now
from tests.support.seed import create, new_task

SCHEMA = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), coalesce(k.conname, '')
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
  LEFT JOIN pg_constraint AS k ON k.conindid = i.indexrelid
 WHERE i.indrelid = 'tasks'::regclass
 ORDER BY 1
"""


async def schema_of(url: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(SCHEMA)]
    finally:
        await conn.close()


async def test_a_rebuild_gives_the_same_rows_key_and_indexes_and_leaves_nothing_behind(
    scratch_url: str,
) -> None:
    events = await fill_log(scratch_url, tasks=400)
    before, schema = await read_table(scratch_url), await schema_of(scratch_url)

    done = await rebuild_now(scratch_url, batch_size=97)

    assert (done.snapshot_events, done.caught_up, done.tasks) == (events, 0, len(before))
    assert await read_table(scratch_url) == before
    assert await schema_of(scratch_url) == schema
    conn = await asyncpg.connect(scratch_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('tasks_rebuild')") is None
        assert await conn.fetchval("SELECT count(*) FROM rebuild_checkpoints") == 0
    finally:
        await conn.close()


async def test_a_rebuild_repairs_a_read_table_that_drifted_from_the_log(scratch_url: str) -> None:
    await fill_log(scratch_url, tasks=200)
    before = await read_table(scratch_url)
    conn = await asyncpg.connect(scratch_url)
    try:
        # A hash of the id, not random(): Citus refuses volatile functions in a WHERE
        await conn.execute(
            "UPDATE tasks SET completed = NOT completed WHERE hashtext(id::text) % 10 < 3"
        )
        await conn.execute("DELETE FROM tasks WHERE abs(hashtext(id::text)) % 10 < 2")
    finally:
        await conn.close()
    assert (await verify_now(scratch_url)).differences

    await rebuild_now(scratch_url)

    assert await read_table(scratch_url) == before
    assert (await verify_now(scratch_url)).differences == []


async def test_commands_on_a_connection_that_appended_before_the_swap_still_work_after_it(
    scratch_url: str,
) -> None:
    """append_task_events names the table: its cached plans must follow the rename."""
    conn = await asyncpg.connect(scratch_url)
    await init_connection(conn)
    try:
        now = datetime.now(UTC)
        task = await created_task(conn, now)
        await rebuild_now(scratch_url)
        toggled = structs.replace(task, completed=True, version=2)
        await event_store.append(
            conn,
            state=toggled,
            expected_version=1,
            events=[TaskToggled(completed=True)],
            metadata={},
            recorded_at=now,
        )
        assert await get_task(conn, task.user_id, task.id) == toggled
        await created_task(conn, now)
    finally:
        await conn.close()
    assert (await verify_now(scratch_url)).differences == []


async def created_task(conn: asyncpg.Connection, now: datetime) -> Task:
    task = new_task("u-rebuild", at=now)
    await create(conn, task)
    return task


async def test_an_empty_log_rebuilds_into_an_empty_table(scratch_url: str) -> None:
    done = await rebuild_now(scratch_url)
    assert (done.snapshot_events, done.caught_up, done.tasks) == (0, 0, 0)
    assert await read_table(scratch_url) == []
