"""Time `tasks rebuild` and `tasks verify` on a generated log of a million events.

Fills a fresh database with a realistic log (bench/rebuild/fill_log.sql, generated inside
PostgreSQL: many users, tasks with a few updates and toggles, some deleted) and its read
table, then runs each command in a process of its own, as an operator would, and reports
wall time, events per second, CPU time and peak memory (the child's maximum RSS).

    .venv/bin/python bench/es_log.py --events 1000000 --runs 3

Run it from the repository root. It creates and drops its own database (--database;
--keep keeps it, --reuse measures a kept one again).
"""

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
FILL_LOG = ROOT / "bench" / "rebuild" / "fill_log.sql"
# About 2.9 events per generated task; a few more tasks than needed, cut to --events.
TASKS_PER_EVENT = 0.39


def on_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def fresh_database(server: str, name: str) -> str:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return on_database(server, name)


async def drop_database(server: str, name: str) -> None:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def fill(url: str, events: int, users: int) -> tuple[int, int, float]:
    """Generate the log and its read table; return (events, tasks, seconds)."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url, server_settings={"statement_timeout": "0"})
    try:
        await conn.execute(
            "SELECT set_config('es.tasks', $1, false), set_config('es.users', $2, false),"
            " set_config('es.events', $3, false)",
            str(int(events * TASKS_PER_EVENT) + 100),
            str(users),
            str(events),
        )
        await conn.execute(FILL_LOG.read_text())
        await conn.execute("VACUUM ANALYZE events")
        await conn.execute("VACUUM ANALYZE tasks")
        count = await conn.fetchval("SELECT count(*) FROM events")
        tasks = await conn.fetchval("SELECT count(*) FROM tasks")
    finally:
        await conn.close()
    return count, tasks, time.perf_counter() - started


def idle_share(seconds: float = 2.0) -> float:
    """The share of CPU time the whole machine left idle over a short while (Linux)."""

    def sample() -> tuple[int, int]:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(total1 - total0, 1)


async def others_active(server: str) -> int:
    """Backends of other sessions running a statement right now, on any database."""
    conn = await asyncpg.connect(server)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state = 'active' AND pid <> pg_backend_pid()"
                " AND backend_type IN ('client backend', 'autovacuum worker')"
            )
        )
    finally:
        await conn.close()


def wait_for_quiet(server: str, threshold: float, patience: float) -> float:
    """Wait (up to `patience` s) until the machine is mostly idle and no other session's
    statement (or autovacuum) is running on the server; return the idle share seen."""
    deadline = time.monotonic() + patience
    while True:
        idle = idle_share()
        quiet = idle >= threshold and asyncio.run(others_active(server)) == 0
        if quiet or time.monotonic() > deadline:
            return idle
        time.sleep(2)


def timed(url: str, *args: str) -> tuple[float, float, int, int, str]:
    """Run `tasks ARGS`; return (wall s, cpu s, max RSS KiB, exit code, stdout)."""
    env = {**os.environ, "DATABASE_URL": url, "TASKS_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    return (
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss,
        os.waitstatus_to_exitcode(status),
        out,
    )


def report(
    label: str, events: int, idle: float, result: tuple[float, float, int, int, str]
) -> None:
    wall, cpu, rss, code, out = result
    print(
        f"| {label} | {events:,} | {idle:.0%} | {wall:.2f} s | {events / wall:,.0f}"
        f" | {cpu:.2f} s | {rss / 1024:.0f} MiB | {code} |",
        flush=True,
    )
    if code not in (0, 1):
        print(out, file=sys.stderr)


def prepare(args: argparse.Namespace) -> tuple[str, int]:
    """A database holding the log and its read table: fresh, or kept from before (--reuse)."""
    url = on_database(args.server, args.database)
    if args.reuse:
        events = asyncio.run(count_events(url))
        print(f"log: {events:,} events, kept from an earlier run")
        return url, events
    url = asyncio.run(fresh_database(args.server, args.database))
    subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "TASKS_LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
    )
    events, tasks, seconds = asyncio.run(fill(url, args.events, args.users))
    print(
        f"log: {events:,} events, {tasks:,} live tasks, {args.users:,} users;"
        f" generated in {seconds:.1f} s"
    )
    return url, events


async def count_events(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM events"))
    finally:
        await conn.close()


def measure(url: str, events: int, args: argparse.Namespace) -> None:
    print("| command | events | machine idle before | wall | events/s | CPU (process)", end="")
    print(" | peak RSS | exit |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    batch = ["--batch-size", args.batch_size]

    def run(label: str, command: str) -> None:
        idle = wait_for_quiet(args.server, args.quiet, args.patience)
        report(label, events, idle, timed(url, command, *batch))

    run("verify (SQL-folded table)" if not args.reuse else "verify", "verify")
    for _ in range(args.runs):
        run("rebuild", "rebuild")
        run("verify", "verify")
    verdict = re.search(r"equals the fold of the log", timed(url, "verify")[4])
    print("read table equals the fold of the log:", bool(verdict))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="tasks_es_bench")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--batch-size", default="50000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept before")
    parser.add_argument("--quiet", type=float, default=0.9, help="idle share to wait for")
    parser.add_argument("--patience", type=float, default=120, help="seconds to wait at most")
    args = parser.parse_args()
    url, events = prepare(args)
    try:
        measure(url, events, args)
    finally:
        if not args.keep:
            asyncio.run(drop_database(args.server, args.database))
    return 0


if __name__ == "__main__":
    sys.exit(main())
