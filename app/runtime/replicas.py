"""Reads from streaming replicas, without losing read-your-writes.

A command's response carries a consistency token: the primary's WAL position
after its commit. A query that presents it is answered from a replica only once
that replica has replayed past it (waiting a bounded time), else from the
primary. A replica that is down, or lags more than a bound, is skipped.
"""

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field

import asyncpg

from app.runtime.db import DATABASE_UNAVAILABLE, create_pool
from app.settings import Settings

log = logging.getLogger("tasks.replicas")
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")
MONITOR_INTERVAL = 0.2


class UnknownToken(ValueError):
    """A consistency token this service did not hand out (the API answers 400)."""


def parse_lsn(text: str) -> int:
    """A WAL position (the form of a consistency token) as a number."""
    match = _LSN.fullmatch(text.strip())
    if match is None:
        raise UnknownToken(text)
    return (int(match.group(1), 16) << 32) + int(match.group(2), 16)


@dataclass
class Replica:
    url: str
    pool: asyncpg.Pool
    healthy: bool = False
    replay_lsn: int = 0
    lag_seconds: float = float("inf")


@dataclass
class ReplicaSet:
    primary: asyncpg.Pool
    replicas: list[Replica]
    max_lag_seconds: float
    wait_seconds: float
    _samples: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=200))
    _turn: "itertools.count[int]" = field(default_factory=itertools.count)
    _monitor: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._monitor = asyncio.create_task(self._watch(), name="replica-monitor")

    async def close(self) -> None:
        if self._monitor:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        for replica in self.replicas:
            await replica.pool.close()

    async def reader(self, token: str | None) -> asyncpg.Pool:
        """The pool a query should read from."""
        fresh = [r for r in self.replicas if r.healthy and r.lag_seconds <= self.max_lag_seconds]
        if not fresh:
            return self.primary
        start = next(self._turn)
        ordered = [fresh[(start + i) % len(fresh)] for i in range(len(fresh))]
        if token is None:
            return ordered[0].pool
        wanted = parse_lsn(token)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            for replica in ordered:
                if replica.replay_lsn >= wanted or await self._caught_up(replica, wanted):
                    return replica.pool
            if time.monotonic() >= deadline:
                return self.primary
            await asyncio.sleep(0.005)

    async def _caught_up(self, replica: Replica, lsn: int) -> bool:
        try:
            replayed = await replica.pool.fetchval(
                "SELECT pg_last_wal_replay_lsn()::text", timeout=1
            )
        except DATABASE_UNAVAILABLE:
            replica.healthy = False
            return False
        replica.replay_lsn = max(replica.replay_lsn, parse_lsn(replayed or "0/0"))
        return replica.replay_lsn >= lsn

    async def _watch(self) -> None:
        while True:
            await self._sample()
            await asyncio.sleep(MONITOR_INTERVAL)

    async def _sample(self) -> None:
        now = time.monotonic()
        try:
            current = await self.primary.fetchval("SELECT pg_current_wal_lsn()::text", timeout=1)
            self._samples.append((parse_lsn(current), now))
        except DATABASE_UNAVAILABLE:
            pass
        for replica in self.replicas:
            try:
                replayed = await replica.pool.fetchval(
                    "SELECT pg_last_wal_replay_lsn()::text", timeout=1
                )
            except DATABASE_UNAVAILABLE as exc:
                if replica.healthy:
                    log.warning(
                        "replica %s unavailable: %s", _host(replica.url), type(exc).__name__
                    )
                replica.healthy = False
                continue
            if replayed is None:  # not a standby (promoted, or misconfigured)
                replica.healthy = False
                continue
            replica.replay_lsn = parse_lsn(replayed)
            replica.lag_seconds = self._lag(replica.replay_lsn, now)
            replica.healthy = True

    def _lag(self, replayed: int, now: float) -> float:
        """Seconds since the primary was where the replica is now (0 if it is level)."""
        if not self._samples or replayed >= self._samples[-1][0]:
            return 0.0
        passed = [t for lsn, t in self._samples if lsn <= replayed]
        return now - passed[-1] if passed else now - self._samples[0][1]


def _host(url: str) -> str:
    return url.rsplit("@", 1)[-1]


async def commit_position(pool: asyncpg.Pool) -> str:
    """A WAL position at or after every commit this process has seen acknowledged."""
    position: str = await pool.fetchval("SELECT pg_current_wal_lsn()::text")
    return position


async def open_replicas(primary: asyncpg.Pool, settings: Settings) -> ReplicaSet | None:
    """Pools for the read replicas, if any; they connect lazily, so one that is down
    does not stop the service from starting."""
    if not settings.read_replica_urls:
        return None
    lazy = settings.model_copy(update={"pool_min_size": 0})
    replicas = [Replica(url, await create_pool(url, lazy)) for url in settings.read_replica_urls]
    replica_set = ReplicaSet(
        primary,
        replicas,
        max_lag_seconds=settings.replica_max_lag_ms / 1000,
        wait_seconds=settings.consistency_wait_ms / 1000,
    )
    replica_set.start()
    return replica_set
