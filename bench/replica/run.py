#!/usr/bin/env python3
"""The mixed scenario with one instance on the primary, then with its reads spread over a
streaming replica (consistency tokens in use), and the replication lag seen meanwhile.

Run from the repository root with the project's venv:
    .venv/bin/python bench/replica/run.py [--duration 15] [--warmup 3] [--workers 1]
It starts its own primary and hot standby (tests/support/pgcluster.py: pgserver's binaries, loopback
ports), seeds the benchmark's 100,000 tasks, and writes bench/REPLICA.md.
"""

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.support.pgcluster import PrimaryWithStandby  # noqa: E402

SEED = (ROOT / "bench" / "sql" / "seed_tasks.sql").read_text()
SEED = SEED[SEED.index("INSERT INTO tasks") :].replace(":'seed_description'", "'text'")
SEED = SEED[: SEED.index("VACUUM")]  # VACUUM runs on its own, outside the seed's transaction
WRK_LINE = re.compile(r"Requests/sec:\s+([\d.]+)")


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


async def seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SEED)
        await conn.execute("VACUUM ANALYZE events")
        await conn.execute("VACUUM ANALYZE tasks")
    finally:
        await conn.close()


async def wait_caught_up(primary: str, standby: str) -> None:
    p, s = await asyncpg.connect(primary), await asyncpg.connect(standby)
    try:
        target = lsn(await p.fetchval("SELECT pg_current_wal_lsn()::text"))
        while lsn(await s.fetchval("SELECT pg_last_wal_replay_lsn()::text")) < target:
            await asyncio.sleep(0.05)
    finally:
        await p.close()
        await s.close()


async def sample_lag(primary: str, standby: str, stop: asyncio.Event) -> list[tuple[int, float]]:
    """(bytes behind, seconds since the last replayed commit) every 100 ms."""
    p, s = await asyncpg.connect(primary), await asyncpg.connect(standby)
    samples = []
    try:
        while not stop.is_set():
            head = lsn(await p.fetchval("SELECT pg_current_wal_lsn()::text"))
            replayed, age = await s.fetchrow(
                "SELECT pg_last_wal_replay_lsn()::text,"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
            )
            samples.append((max(0, head - lsn(replayed)), age or 0.0))
            await asyncio.sleep(0.1)
    finally:
        await p.close()
        await s.close()
    return samples


async def commits(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ))
    finally:
        await conn.close()


def serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("server did not become ready")


def wrk(port: int, seconds: int, tokens: str) -> str:
    env = {**os.environ, "WRK_TOKENS": tokens, "WRK_LUA_DIR": str(ROOT / "bench" / "wrk")}
    script = ROOT / "bench" / "replica" / "mixed_token.lua"
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, check=True,
    )
    return out.stdout


def percentile(text: str, name: str) -> str:
    match = re.search(rf"^\s+{name}\s+([\d.]+\w+)", text, re.M)
    return match.group(1) if match else "?"


async def measure(label: str, env: dict[str, str], args: argparse.Namespace,
                  cluster: PrimaryWithStandby, tokens: str) -> dict[str, object]:
    port = 8190
    server = serve(env, port, args.workers)
    try:
        await asyncio.to_thread(wrk, port, args.warmup, tokens)
        before = await commits(cluster.standby.url)
        stop = asyncio.Event()
        lag = asyncio.create_task(sample_lag(cluster.primary.url, cluster.standby.url, stop))
        out = await asyncio.to_thread(wrk, port, args.duration, tokens)
        stop.set()
        samples = await lag
        on_standby = await commits(cluster.standby.url) - before
    finally:
        server.terminate()
        server.wait(30)
    rps = float(WRK_LINE.search(out).group(1))  # type: ignore[union-attr]
    refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    byte_lag = [b for b, _ in samples]
    return {
        "label": label, "rps": rps, "p50": percentile(out, "50%"), "p99": percentile(out, "99%"),
        "lag_bytes_median": statistics.median(byte_lag), "lag_bytes_max": max(byte_lag),
        "lag_seconds_max": max(a for _, a in samples),
        "standby_queries_per_s": on_standby / args.duration,
        "non_2xx": int(refused.group(1)) if refused else 0,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    cluster = PrimaryWithStandby()
    cluster.start()
    try:
        from app.runtime.migrate import migrate_url

        await migrate_url(cluster.primary.url)
        await seed(cluster.primary.url)
        await wait_caught_up(cluster.primary.url, cluster.standby.url)
        secret = secrets.token_urlsafe(48)
        base = {**os.environ, "DATABASE_URL": cluster.primary.url, "TASKS_AUTH_SECRET": secret,
                "TASKS_LOG_LEVEL": "WARNING"}
        tokens = tempfile.NamedTemporaryFile(suffix=".tokens", delete=False).name
        subprocess.run([sys.executable, str(ROOT / "bench" / "lib" / "tokens.py"), tokens],
                       env=base, cwd=ROOT, check=True)
        rows = [
            await measure("primary only", base, args, cluster, tokens),
            await measure(
                "reads on the replica, tokens in use",
                {**base, "TASKS_READ_REPLICA_URLS": f'["{cluster.standby.url}"]'},
                args, cluster, tokens,
            ),
        ]
    finally:
        cluster.stop()
    report(rows, args)


def report(rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    lines = [
        "| setup | req/s | p50 | p99 | non-2xx | standby transactions/s | lag median (bytes) | "
        "lag max (bytes) | lag max (s since last replayed commit) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['rps']:,.0f} | {r['p50']} | {r['p99']} | {r['non_2xx']} | "
            f"{r['standby_queries_per_s']:,.0f} | {r['lag_bytes_median']:,.0f} | "
            f"{r['lag_bytes_max']:,.0f} | {r['lag_seconds_max']:.3f} |"
        )
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "REPLICA.md"
    command = f"python bench/replica/run.py --duration {args.duration} --warmup {args.warmup} --workers {args.workers}"
    out.write_text(REPORT.format(table=table, command=command, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                 load=os.getloadavg()[0]))


REPORT = """# Reads over a streaming replica

`.venv/bin/{command}`, {date}; load average {load:.2f} when it finished.

The mixed scenario (20% create, 10% toggle, 70% list, 32 connections, wrk, authenticated) against
one `tasks serve` on a primary with a streaming hot standby, both started by the script on this
machine (tests/support/pgcluster.py), seeded with the benchmark's 100,000 tasks. Each connection sends the
`X-Consistency-Token` of its last command with its lists (`bench/replica/mixed_token.lua`), so a
replica answers a list only once it has replayed that command. Lag is sampled every 100 ms during
the measured window: bytes of WAL the standby is behind the primary, and the age of its last
replayed commit. Standby transactions are the lists it served plus the service's checks of its
replay position (one per list whose token the last sample had not reached yet, and the monitor's
five a second).

{table}

Read it as a cost and a correctness check, not as a speed-up: wrk, the service, the primary and the
standby share these 2 cores, so the standby's work comes out of the same CPU the primary would
use. On separate machines the replica takes the 70% of requests that are lists off the primary.
"""


if __name__ == "__main__":
    asyncio.run(main())
