"""Leader election: jobs that must run once per deployment run on the one process
holding a PostgreSQL advisory lock, and move to another when that process dies.

The lock is session-scoped on a connection of its own: if the leader crashes or
its connection is cut, PostgreSQL releases the lock and the next contender that
tries gets it. Nothing else assumes a single process.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from app.runtime.db import DATABASE_UNAVAILABLE
from app.runtime.locks import lock_key

log = logging.getLogger("tasks.leader")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[asyncpg.Pool], Awaitable[None]]


class Leader:
    def __init__(self, dsn: str, pool: asyncpg.Pool, jobs: list[Job], retry_seconds: float) -> None:
        self._dsn, self._pool, self._jobs, self._retry = dsn, pool, jobs, retry_seconds
        self.is_leader = False
        self.runs: dict[str, int] = dict.fromkeys((j.name for j in jobs), 0)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._contend(), name="leader")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _contend(self) -> None:
        while True:
            try:
                await self._hold_and_lead()
            except DATABASE_UNAVAILABLE as exc:
                if self.is_leader:
                    log.warning("lost leadership: %s", type(exc).__name__)
            except asyncpg.PostgresError as exc:  # a bad password, say: keep contending, loudly
                log.error("cannot contend for leadership: %s", type(exc).__name__)
            self.is_leader = False
            await asyncio.sleep(self._retry)

    async def _hold_and_lead(self) -> None:
        conn = await asyncpg.connect(
            self._dsn,
            timeout=5,
            server_settings={"application_name": f"tasks-leader-{os.getpid()}"},
        )
        try:
            # Polling: PostgreSQL has no way to wait for a lock without blocking a connection.
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key("leader")):  # noqa: ASYNC110
                await asyncio.sleep(self._retry)
            self.is_leader = True
            log.info("process %d is now the leader", os.getpid())
            await self._lead(conn)
        finally:
            await conn.close(timeout=2)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        due = dict.fromkeys((j.name for j in self._jobs), 0.0)
        loop = asyncio.get_running_loop()
        while True:
            await conn.execute("SELECT 1")  # the lock lives as long as this connection does
            for job in self._jobs:
                if loop.time() >= due[job.name]:
                    await self._run(job)
                    due[job.name] = loop.time() + job.every_seconds
            await asyncio.sleep(self._retry)

    async def _run(self, job: Job) -> None:
        try:
            await job.run(self._pool)
            self.runs[job.name] += 1
        except DATABASE_UNAVAILABLE:
            raise
        except Exception:  # a failing job must not cost the deployment its leader
            log.exception("job %s failed", job.name)
