"""Build an event log of N events (default 1,000,000) for the export benchmark (bench/EXPORT.md).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tasks_export_bench \
        .venv/bin/python bench/es_export_log.py --events 1000000

Creates the database if it is missing, applies the migrations, and appends events until the
log holds N (rerunning it is cheap). The log is realistic in shape: 10,000 users, tasks of four
events each (TaskCreated, TaskUpdated of the title, TaskToggled, then TaskDeleted for one task in
four and TaskUpdated of the description for the rest), interleaved in waves of 1,000 tasks,
25 ms apart, with request ids and actors in the metadata. It is written in SQL batches that
take the global append lock like every append. Only the log is filled, not the read table
(export reads the log only); `tasks rebuild` can derive the read table from it.
"""

import argparse
import asyncio
import os
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.runtime.migrate import migrate  # the project, installed in the venv (pip install -e)

BATCH = 100_000

# Event k (0-based): wave k // 4000 of 1,000 tasks; within a wave every task's first event,
# then every task's second, and so on, so streams interleave as they would in real use.
INSERT = """
INSERT INTO events (position, user_id, stream_id, version, type, data, metadata, recorded_at)
SELECT (SELECT position FROM log_head) + 1 + k - $1::bigint,
       'user-' || (t % 10000),
       md5('task-' || t)::uuid,
       step + 1,
       CASE step
           WHEN 0 THEN 'TaskCreated'
           WHEN 1 THEN 'TaskUpdated'
           WHEN 2 THEN 'TaskToggled'
           ELSE CASE WHEN t % 4 = 0 THEN 'TaskDeleted' ELSE 'TaskUpdated' END
       END,
       CASE step
           WHEN 0 THEN jsonb_build_object('title', 'Task ' || t || ': buy milk and bread',
                                          'description', NULL, 'completed', false)
           WHEN 1 THEN jsonb_build_object('title', 'Task ' || t || ': buy oat milk and rye bread')
           WHEN 2 THEN jsonb_build_object('completed', true)
           ELSE CASE WHEN t % 4 = 0 THEN '{}'::jsonb
                     ELSE jsonb_build_object('description', 'From the shop on the corner, before 6 pm')
                END
       END,
       jsonb_build_object('request_id', md5('request-' || k)::uuid::text,
                          'actor', 'user-' || (t % 10000), 'schema_version', 1),
       timestamptz '2026-01-01 00:00:00+00' + k * interval '25 milliseconds'
  FROM generate_series($1::bigint, $2::bigint - 1) AS k,
       LATERAL (SELECT (k / 4000) * 1000 + k % 1000 AS t, (k % 4000) / 1000 AS step) AS at
 ORDER BY k
"""


async def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')  # a name we were given, not input
    finally:
        await admin.close()


async def build(url: str, events: int) -> None:
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        have = await conn.fetchval("SELECT count(*) FROM events")
        started = time.perf_counter()
        for lo in range(have, events, BATCH):
            hi = min(lo + BATCH, events)
            async with conn.transaction():
                # Positions are the sequencer's to give: hold its lock (sequence_events).
                await conn.execute("SELECT pg_advisory_xact_lock(tasks_lock_key('sequence'))")
                await conn.execute(INSERT, lo, hi)
                await conn.execute("UPDATE log_head SET position = position + $1, visible = visible + $1", hi - lo)
            print(f"{hi:,} events", file=sys.stderr)
        await conn.execute("VACUUM ANALYZE events")
        total = await conn.fetchval("SELECT count(*) FROM events")
        print(f"the log holds {total:,} events ({time.perf_counter() - started:.1f} s)")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to the benchmark database (it is created if missing)")
    asyncio.run(build(url, args.events))


if __name__ == "__main__":
    main()
