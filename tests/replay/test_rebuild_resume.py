"""tasks rebuild interrupted: resumed from its checkpoint, or started over."""

import asyncio
import os
import signal
import subprocess
import sys
from uuid import uuid4

import asyncpg
import pytest

from app.runtime.db import create_pool
from app.service import execute
from app.settings import Settings
from events.commands import CreateTask, DeleteTask, ToggleTask, UpdateTask
from projections.rebuild import Rebuilt
from tests.support.replay import (
    Interrupt,
    Interrupted,
    fill_log,
    read_table,
    rebuild_now,
    tasks_cli,
    until,
    verify_now,
)


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


async def test_restart_ignores_a_checkpoint_and_starts_over(scratch_url: str) -> None:
    await fill_log(scratch_url, tasks=300)
    before = await read_table(scratch_url)
    with pytest.raises(Interrupted):
        await rebuild_now(scratch_url, batch_size=20, progress=Interrupt(after_events=200))
    done: Rebuilt = await rebuild_now(scratch_url, restart=True)
    assert not done.resumed
    assert await read_table(scratch_url) == before


@pytest.mark.slow
async def test_a_rebuild_killed_part_way_resumes_from_its_checkpoint_to_a_clean_result(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=1500)
    before = await read_table(scratch_url)
    env = {**os.environ, "DATABASE_URL": scratch_url, "TASKS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "app.cli", "rebuild", "--batch-size", "5"]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    conn = await asyncpg.connect(scratch_url)
    try:
        # Some way in: past the first few streams, which may all be deleted tasks (no rows).
        await until(conn, "SELECT events_done > 200 FROM rebuild_checkpoints WHERE NOT bulk_done")
        process.send_signal(signal.SIGKILL)
        await process.wait()
        written = await conn.fetchval("SELECT count(*) FROM tasks_rebuild")
        assert 0 < written < len(before)
        assert await read_table(scratch_url) == before  # the service's table is untouched
        # The killed run's session ends (and lets go of the rebuild lock) once the server notices.
        await until(
            conn,
            "SELECT count(*) = 0 FROM pg_stat_activity"
            " WHERE application_name = 'tasks replay' AND datname = current_database()",
        )
    finally:
        await conn.close()

    resumed = tasks_cli(scratch_url, "rebuild")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from a checkpoint" in resumed.stdout
    assert await read_table(scratch_url) == before
    assert (await verify_now(scratch_url)).differences == []
