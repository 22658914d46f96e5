"""tasks rebuild: the read table replayed from the log into a fresh table and swapped in."""

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from msgspec import structs

from app.db import create_pool, init_connection
from app.service import execute
from app.settings import Settings
from events import store
from events.commands import CreateTask, DeleteTask, ToggleTask, UpdateTask
from events.state import Task
from events.types import TaskCreated, TaskToggled
from projections.read_table import get_task
from projections.rebuild import RebuildError
from projections.verify import VerifyError
from tests.replay.conftest import (
    Interrupt,
    Interrupted,
    fill_log,
    read_table,
    rebuild_now,
    verify_now,
)

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
        await conn.execute("UPDATE tasks SET completed = NOT completed WHERE random() < 0.3")
        await conn.execute("DELETE FROM tasks WHERE random() < 0.2")
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
        await store.append(
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
    task = Task(
        id=uuid4(),
        user_id="u-rebuild",
        title="t",
        description=None,
        completed=False,
        created_at=now,
        updated_at=now,
        version=1,
    )
    await store.append(
        conn,
        state=task,
        expected_version=0,
        events=[TaskCreated(title="t")],
        metadata={},
        recorded_at=now,
    )
    return task


async def test_a_second_rebuild_and_a_verify_are_refused_while_one_runs(scratch_url: str) -> None:
    other = await asyncpg.connect(scratch_url)
    try:
        await other.execute("SELECT pg_advisory_lock(1952539501)")  # as a running rebuild holds
        with pytest.raises(RebuildError, match="another rebuild, or a verify, is running"):
            await rebuild_now(scratch_url)
        with pytest.raises(VerifyError, match="a rebuild is running"):
            await verify_now(scratch_url)
    finally:
        await other.close()


async def test_a_rebuild_is_refused_while_a_verify_runs_but_verifies_run_side_by_side(
    scratch_url: str,
) -> None:
    other = await asyncpg.connect(scratch_url)
    try:
        await other.execute("SELECT pg_advisory_lock_shared(1952539501)")  # as a verify holds
        with pytest.raises(RebuildError, match="is running"):
            await rebuild_now(scratch_url)
        assert (await verify_now(scratch_url)).differences == []
    finally:
        await other.close()


async def test_the_swap_is_refused_while_the_read_table_has_an_index_the_fresh_one_lacks(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=100)
    before = await read_table(scratch_url)
    conn = await asyncpg.connect(scratch_url)
    try:
        await conn.execute("CREATE INDEX tasks_title_idx ON tasks (title)")
        with pytest.raises(RebuildError, match=r"read table \(CREATE INDEX .*\(title\)\).* differ"):
            await rebuild_now(scratch_url)
        assert await conn.fetchval("SELECT to_regclass('tasks_title_idx')") is not None
        await conn.execute("DROP INDEX tasks_title_idx")
    finally:
        await conn.close()
    done = await rebuild_now(scratch_url)
    assert done.resumed
    assert await read_table(scratch_url) == before


async def test_a_view_over_the_read_table_stops_the_swap_with_a_message_and_a_resumable_rebuild(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=50)
    before = await read_table(scratch_url)
    conn = await asyncpg.connect(scratch_url)
    try:
        await conn.execute("CREATE VIEW open_tasks AS SELECT * FROM tasks WHERE NOT completed")
        with pytest.raises(
            RebuildError, match=r"view open_tasks depends on table tasks.*drop what depends"
        ):
            await rebuild_now(scratch_url)
        assert await read_table(scratch_url) == before  # the swap rolled back whole
        await conn.execute("DROP VIEW open_tasks")
    finally:
        await conn.close()
    assert (await rebuild_now(scratch_url)).resumed
    assert await read_table(scratch_url) == before


async def test_an_empty_log_rebuilds_into_an_empty_table(scratch_url: str) -> None:
    done = await rebuild_now(scratch_url)
    assert (done.snapshot_events, done.caught_up, done.tasks) == (0, 0, 0)
    assert await read_table(scratch_url) == []


async def test_a_rebuild_interrupted_in_bulk_and_again_in_catch_up_resumes_each_time(
    scratch_url: str, settings: Settings
) -> None:
    await fill_log(scratch_url, tasks=150)
    with pytest.raises(Interrupted):  # part way through the bulk phase
        await rebuild_now(scratch_url, batch_size=20, progress=Interrupt(after_events=100))
    await commands_after_the_snapshot(scratch_url, settings)
    with pytest.raises(Interrupted):  # after the first batch of catch-up
        await rebuild_now(scratch_url, batch_size=5, progress=Interrupt(in_catch_up=True))
    conn = await asyncpg.connect(scratch_url)
    try:
        checkpoint = await conn.fetchrow("SELECT * FROM rebuild_checkpoints")
        assert checkpoint["bulk_done"]
        assert checkpoint["caught_up_position"] > checkpoint["snapshot_position"]
    finally:
        await conn.close()

    done = await rebuild_now(scratch_url, batch_size=5)

    assert done.resumed and done.caught_up > 0
    assert (await verify_now(scratch_url)).differences == []


async def commands_after_the_snapshot(url: str, settings: Settings) -> None:
    """Delete, rename and toggle some tasks the bulk phase has folded, and create new ones."""
    pool = await create_pool(url, settings)
    try:
        rows = await pool.fetch("SELECT user_id, id FROM tasks ORDER BY random() LIMIT 6")
        commands = [DeleteTask(), UpdateTask(title="renamed"), ToggleTask()] * 2
        for row, command in zip(rows, commands, strict=True):
            await execute(pool, row["user_id"], row["id"], command, {})
        for n in range(4):
            task_id = uuid4()
            create = CreateTask(task_id=task_id, user_id="u-late", title=f"late {n}")
            await execute(pool, "u-late", task_id, create, {})
    finally:
        await pool.close()
