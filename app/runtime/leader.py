"""Leader election: jobs that must run once per deployment (and the background sequencer)
run on the one process holding a PostgreSQL advisory lock, and move to another when that
process dies.

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
from app.runtime.sequencer import SequencerStats, run_sequencer

log = logging.getLogger("tasks.leader")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[asyncpg.Pool], Awaitable[None]]


class Leader:
    def __init__(
        self,
        dsn: str,
        pool: asyncpg.Pool,
        jobs: list[Job],
        retry_seconds: float,
        sequencer_idle_seconds: float,
    ) -> None:
        self._dsn, self._pool, self._jobs, self._retry = dsn, pool, jobs, retry_seconds
        self._sequencer_idle = sequencer_idle_seconds
        self.sequenced = SequencerStats()
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
        # The sequencer keeps the lock's connection busy: the lock lives as long as the
        # connection does, and a failure of either ends this leadership.
        sequencer = asyncio.create_task(
            run_sequencer(conn, self.sequenced, idle_pause=self._sequencer_idle),
            name="sequencer",
        )
        due = dict.fromkeys((j.name for j in self._jobs), 0.0)
        loop = asyncio.get_running_loop()
        try:
            while not sequencer.done():
                for job in self._jobs:
                    if loop.time() >= due[job.name]:
                        await self._run(job)
                        due[job.name] = loop.time() + job.every_seconds
                await asyncio.wait({sequencer}, timeout=self._retry)
            sequencer.result()  # raises what stopped it
        finally:
            # Wait for it without taking on its outcome: raising its error here would replace
            # a cancellation of this task, and stop() would wait forever.
            sequencer.cancel()
            await asyncio.wait({sequencer})
            if not sequencer.cancelled():
                sequencer.exception()  # read (above, or moot now): never logged as unread

    async def _run(self, job: Job) -> None:
        try:
            await job.run(self._pool)
            self.runs[job.name] += 1
        except DATABASE_UNAVAILABLE:
            raise
        except Exception:  # a failing job must not cost the deployment its leader
            log.exception("job %s failed", job.name)
