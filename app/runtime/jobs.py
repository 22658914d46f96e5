"""Jobs that run once per deployment, on the leader (app/runtime/leader.py)."""

from functools import partial

import asyncpg

from app.runtime.leader import Job
from app.settings import Settings
from app.storage.idempotency_keys import purge_all_expired


async def analyze_log(pool: asyncpg.Pool) -> None:
    """Keep the planner's statistics of the log fresh as it grows (autovacuum's analyse
    threshold is a fraction of the table, so a large append-only log waits long for it)."""
    await pool.execute("ANALYZE events")


def deployment_jobs(settings: Settings) -> list[Job]:
    return [
        Job("analyze_log", every_seconds=settings.analyze_every_seconds, run=analyze_log),
        Job(
            "purge_idempotency_keys",
            every_seconds=settings.idempotency_purge_seconds,
            run=partial(purge_all_expired, ttl_seconds=settings.idempotency_ttl_seconds),
        ),
    ]
