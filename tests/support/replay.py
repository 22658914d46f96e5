"""Replay helpers: a generated log, the read table as rows, rebuild and verify on their own
connections, progress that interrupts, and `tasks` in a process of its own."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

from projections.rebuild import Rebuilt, rebuild
from projections.verify import Verified, verify

ROOT = Path(__file__).parents[2]
# The benchmark's log generator: many users, updates, toggles, deletions, and a read table
# folded from it in SQL, independently of the Python projector.
FILL_LOG = (ROOT / "bench" / "rebuild" / "fill_log.sql").read_text()


async def fill_log(url: str, tasks: int, users: int = 20) -> int:
    """Write a log of about 3 events per task (and its read table); return the event count."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "SELECT set_config('es.tasks', $1, false), set_config('es.users', $2, false),"
            " set_config('es.events', '100000000', false)",
            str(tasks),
            str(users),
        )
        await conn.execute(FILL_LOG)
        return int(await conn.fetchval("SELECT count(*) FROM events"))
    finally:
        await conn.close()


async def read_table(url: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT * FROM tasks ORDER BY user_id, id")
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


class NoProgress:
    def grow(self, events: int) -> None:
        pass

    def advance(self, events: int) -> None:
        pass


class Interrupted(Exception):
    pass


class Interrupt(NoProgress):
    """Raises part way: after some events, or after the first batch applied by catch-up."""

    def __init__(self, *, after_events: int | None = None, in_catch_up: bool = False) -> None:
        self.left, self.in_catch_up, self.grown = after_events, in_catch_up, 0

    def grow(self, events: int) -> None:
        self.grown += 1  # once for the snapshot, then once per batch of catch-up

    def advance(self, events: int) -> None:
        if self.left is not None:
            self.left -= events
            if self.left < 0:
                raise Interrupted()
        if self.in_catch_up and self.grown > 1:
            raise Interrupted()


async def rebuild_now(
    url: str, *, batch_size: int = 97, restart: bool = False, progress: Any = None
) -> Rebuilt:
    reader, writer = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        return await rebuild(
            reader, writer, progress or NoProgress(), batch_size=batch_size, restart=restart
        )
    finally:
        await reader.close()
        await writer.close()


async def verify_now(url: str, *, batch_size: int = 101) -> Verified:
    reader, conn = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        return await verify(reader, conn, NoProgress(), batch_size=batch_size)
    finally:
        await reader.close()
        await conn.close()


def tasks_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`tasks ARGS` in a process of its own, on the given database."""
    env = {**os.environ, "DATABASE_URL": url, "TASKS_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True
    )


async def until(conn: asyncpg.Connection, query: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.005)):
        if await conn.fetchval(query):
            return
        await asyncio.sleep(0.005)
    raise TimeoutError(query)
