"""tasks rebuild under way: while the service serves, and when killed part way through."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter

import asyncpg
import httpx
import pytest

from projections.rebuild import Rebuilt
from tests.conftest import LiveServer
from tests.random_refs import random_user
from tests.replay.conftest import (
    Interrupt,
    Interrupted,
    fill_log,
    read_table,
    rebuild_now,
    tasks_cli,
    verify_now,
)

pytestmark = pytest.mark.slow


async def test_no_request_fails_while_a_rebuild_runs_and_the_table_ends_equal_to_the_log(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=3000)
    server = LiveServer(scratch_url)
    statuses: Counter[int] = Counter()
    stop = asyncio.Event()
    try:
        server.wait_ready()
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
            load = [asyncio.create_task(a_user_at_work(client, stop, statuses)) for _ in range(6)]
            await asyncio.sleep(0.3)
            done = await rebuild_now(scratch_url, batch_size=300)
            await asyncio.sleep(0.3)  # and on, after the swap
            stop.set()
            await asyncio.gather(*load)
    finally:
        server.stop()
    assert set(statuses) <= {200, 201, 204}, statuses
    assert statuses[201] > 20 and statuses[200] > 100
    assert done.caught_up > 0  # commands landed during the rebuild and were caught up
    assert (await verify_now(scratch_url)).differences == []


async def a_user_at_work(
    client: httpx.AsyncClient, stop: asyncio.Event, statuses: Counter[int]
) -> None:
    """Create, toggle, rename, read, list and sometimes delete, until told to stop."""
    user, n = random_user(), 0
    while not stop.is_set():
        n += 1
        created = await client.post(f"/api/{user}/tasks", json={"title": f"task {n}"})
        statuses[created.status_code] += 1
        url = f"/api/{user}/tasks/{created.json()['id']}"
        for response in [
            await client.patch(f"{url}/complete"),
            await client.put(url, json={"title": f"renamed {n}", "completed": n % 3 == 0}),
            await client.get(url),
            await client.get(f"/api/{user}/tasks", params={"limit": 5}),
            await (client.delete(url) if n % 2 else client.get(url)),
        ]:
            statuses[response.status_code] += 1


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
        await until(conn, "SELECT events_done > 0 FROM rebuild_checkpoints WHERE NOT bulk_done")
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


async def test_restart_ignores_a_checkpoint_and_starts_over(scratch_url: str) -> None:
    await fill_log(scratch_url, tasks=300)
    before = await read_table(scratch_url)
    with pytest.raises(Interrupted):
        await rebuild_now(scratch_url, batch_size=20, progress=Interrupt(after_events=200))
    done: Rebuilt = await rebuild_now(scratch_url, restart=True)
    assert not done.resumed
    assert await read_table(scratch_url) == before


async def until(conn: asyncpg.Connection, query: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.005)):
        if await conn.fetchval(query):
            return
        await asyncio.sleep(0.005)
    raise TimeoutError(query)


async def test_the_swap_outlasts_a_transaction_holding_the_table_past_its_lock_timeout(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=100)
    before = await read_table(scratch_url)
    holder = await asyncpg.connect(scratch_url)
    try:
        held = holder.transaction()
        await held.start()
        await holder.fetchval("SELECT count(*) FROM tasks")  # its lock lasts to the rollback

        async def let_go_later() -> None:
            await asyncio.sleep(3)  # longer than the swap's 2 s lock_timeout
            await held.rollback()

        letting_go = asyncio.create_task(let_go_later())
        done = await rebuild_now(scratch_url)
        await letting_go
    finally:
        await holder.close()
    assert done.tasks == len(before)
    assert await read_table(scratch_url) == before
