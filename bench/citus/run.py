#!/usr/bin/env python3
"""The service on a Citus cluster next to the same service on one plain PostgreSQL, in one run:
the create and mixed scenarios through one `tasks serve`, and how far behind the feed runs.

Run from the repository root with the project's venv (as root: the cluster's servers run as
the postgres user), under the machine's benchmark lock:
    flock /tmp/bench.lock .venv/bin/python bench/citus/run.py [--duration 15] [--warmup 3]
        [--workers 1] [--citus-workers 2] [--citus-port 9716]
It starts one plain PostgreSQL 15 server (port --citus-port - 1), then a coordinator and
--citus-workers workers (ports from --citus-port, 9716 by default), both with
../shared/citus/cluster.sh (tests/support/citus.py), migrates and seeds each with the
benchmark's 100,000 tasks, measures each in turn, and writes bench/CITUS.md.
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
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from app.runtime.migrate import migrate_url  # noqa: E402
from tests.support import citus  # noqa: E402
from tests.support.databases import on_database  # noqa: E402

SEED = (ROOT / "bench" / "sql" / "seed_tasks.sql").read_text()
SEED = SEED[SEED.index("INSERT INTO tasks") :].replace(":'seed_description'", "'text'")
SEED = SEED[: SEED.index("VACUUM")]  # VACUUM runs on its own, outside the seed's transaction
WRK_LINE = re.compile(r"Requests/sec:\s+([\d.]+)")
PORT = 9719


async def seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SEED)
        await conn.execute("VACUUM ANALYZE events")
        await conn.execute("VACUUM ANALYZE tasks")
    finally:
        await conn.close()


def serve(env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(PORT), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/ready", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("server did not become ready")


def wrk(scenario: str, seconds: int, tokens: str) -> str:
    env = {**os.environ, "WRK_TOKENS": tokens, "WRK_LUA_DIR": str(ROOT / "bench" / "wrk")}
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", "--timeout", "5s", "--latency",
         "-s", str(ROOT / "bench" / "wrk" / f"{scenario}.lua"), f"http://127.0.0.1:{PORT}"],
        env=env, capture_output=True, text=True, check=True,
    )
    return out.stdout


def percentile(text: str, name: str) -> str:
    match = re.search(rf"^\s+{name}\s+([\d.]+\w+)", text, re.M)
    return match.group(1) if match else "?"


async def feed_delay(tokens: dict[str, str], samples: int) -> list[float]:
    """Seconds from a create's response to its event in the user's feed, read without the
    read-your-writes sequencing of a feed request: what the leader's sequencer alone gives
    (the live stream's delay). Polls the database every 2 ms, one create at a time."""
    delays = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}") as client:
        for i in range(samples):
            user = f"w{i % 1000 + 1}"
            headers = {"Authorization": f"Bearer {tokens[user]}"}
            created = await client.post(f"/api/{user}/tasks", json={"title": "probe"}, headers=headers)
            done = time.perf_counter()
            task = created.json()["id"]
            while True:
                if await _visible(user, task):
                    break
                await asyncio.sleep(0.002)
            delays.append(time.perf_counter() - done)
    return delays


_PROBE: asyncpg.Connection | None = None


async def _visible(user: str, task: str) -> bool:
    """Whether the task's event is in the log and visible (one index lookup, on one shard)."""
    assert _PROBE is not None
    return bool(await _PROBE.fetchval(
        "SELECT EXISTS (SELECT 1 FROM events WHERE user_id = $1 AND stream_id = $2"
        " AND position <= (SELECT visible FROM log_head))", user, uuid.UUID(task)))


def _ticks(pid: int) -> int:
    """CPU clock ticks of a process, with those of its children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime


def cpu_seconds(root: int) -> float:
    """CPU seconds of a process tree so far: the root's own and waited-for children's, plus
    its live children's (a PostgreSQL server's connections and workers)."""
    total = _ticks(root)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == root:
                total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def servers(url: str) -> dict[str, int]:
    """The postmaster of each node of the cluster (or single server) started here whose
    coordinator is the URL's (name -> pid)."""
    found = {}
    for pidfile in Path(tempfile.gettempdir()).glob("tasks-citus-*/*/postmaster.pid"):
        port = pidfile.read_text().splitlines()[3]
        if str(urlsplit(url).port) == port:
            found["database" if _alone(pidfile) else "coordinator"] = int(
                pidfile.read_text().splitlines()[0])
        elif pidfile.parent.parent == _cluster_dir(url):
            found[f"worker {port}"] = int(pidfile.read_text().splitlines()[0])
    return found


def _alone(pidfile: Path) -> bool:
    return len(list(pidfile.parent.parent.glob("*/postmaster.pid"))) == 1


def _cluster_dir(url: str) -> Path | None:
    for pidfile in Path(tempfile.gettempdir()).glob("tasks-citus-*/*/postmaster.pid"):
        if pidfile.read_text().splitlines()[3] == str(urlsplit(url).port):
            return pidfile.parent.parent
    return None


async def measure(label: str, url: str, args: argparse.Namespace, secret: str,
                  tokens: str) -> dict[str, object]:
    global _PROBE
    await migrate_url(url)
    await seed(url)
    env = {**os.environ, "DATABASE_URL": url, "TASKS_AUTH_SECRET": secret,
           "TASKS_LOG_LEVEL": "WARNING"}
    row: dict[str, object] = {"label": label}
    server = serve(env, args.workers)
    try:
        nodes = {"service": server.pid, **servers(url)}
        for scenario in ("create", "mixed"):
            await asyncio.to_thread(wrk, scenario, args.warmup, tokens)
            before = {name: cpu_seconds(pid) for name, pid in nodes.items()}
            out = await asyncio.to_thread(wrk, scenario, args.duration, tokens)
            used = {name: cpu_seconds(pid) - before[name] for name, pid in nodes.items()}
            refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
            rps = float(WRK_LINE.search(out).group(1))  # type: ignore[union-attr]
            row[scenario] = {
                "rps": rps,
                "p50": percentile(out, "50%"), "p99": percentile(out, "99%"),
                "non_2xx": int(refused.group(1)) if refused else 0,
                # CPU milliseconds per request, per process tree
                "cpu_ms": {n: 1000 * u / (rps * args.duration) for n, u in used.items()},
            }
        _PROBE = await asyncpg.connect(url)
        try:
            users = dict(line.split() for line in Path(tokens).read_text().splitlines())
            delays = sorted(await feed_delay(users, args.probes))
        finally:
            await _PROBE.close()
        row["delay_p50_ms"] = statistics.median(delays) * 1000
        row["delay_p99_ms"] = delays[int(len(delays) * 0.99) - 1] * 1000
    finally:
        server.terminate()
        server.wait(30)
    return row


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of tasks serve")
    parser.add_argument("--citus-workers", default="2",
                        help="Citus worker nodes; a comma-separated list measures one cluster each")
    parser.add_argument("--citus-port", type=int, default=9716)
    parser.add_argument("--probes", type=int, default=200, help="creates timed into the feed")
    args = parser.parse_args()
    secret = secrets.token_urlsafe(48)
    tokens = tempfile.NamedTemporaryFile(suffix=".tokens", delete=False).name
    subprocess.run([sys.executable, str(ROOT / "bench" / "lib" / "tokens.py"), tokens],
                   env={**os.environ, "TASKS_AUTH_SECRET": secret},
                   cwd=ROOT, check=True)
    rows = []
    # One PostgreSQL server of the same build and settings, started here too (cluster.sh with
    # no workers; its database `plain` has no citus extension, so it is plain PostgreSQL), so
    # its CPU is counted like the cluster's nodes'.
    with citus.cluster(args.citus_port - 1, workers=0) as server:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute("CREATE DATABASE plain")
        finally:
            await admin.close()
        rows.append(await measure("plain PostgreSQL 15 (one server)", on_database(server, "plain"),
                                  args, secret, tokens))
    for workers in (int(n) for n in args.citus_workers.split(",")):
        with citus.cluster(args.citus_port, workers=workers) as url:
            rows.append(await measure(
                f"Citus 13.2, coordinator + {workers} worker{'s' if workers > 1 else ''}, 8 shards",
                on_database(url, "postgres"), args, secret, tokens))
    report(rows, args)


def report(rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    lines = [
        "| database | create req/s | create p50 / p99 | mixed req/s | mixed p50 / p99 | non-2xx |"
        " feed delay p50 / p99 (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        c, m = r["create"], r["mixed"]
        assert isinstance(c, dict) and isinstance(m, dict)
        lines.append(
            f"| {r['label']} | {c['rps']:,.0f} | {c['p50']} / {c['p99']} | {m['rps']:,.0f} |"
            f" {m['p50']} / {m['p99']} | {c['non_2xx'] + m['non_2xx']} |"
            f" {r['delay_p50_ms']:.1f} / {r['delay_p99_ms']:.1f} |"
        )
    base_c, base_m = rows[0]["create"], rows[0]["mixed"]
    assert isinstance(base_c, dict) and isinstance(base_m, dict)
    for r in rows[1:]:
        c, m = r["create"], r["mixed"]
        assert isinstance(c, dict) and isinstance(m, dict)
        lines.append(
            f"\n{r['label']} / plain: create {c['rps'] / base_c['rps']:.2f}, mixed"
            f" {m['rps'] / base_m['rps']:.2f}"
        )
    lines.append("\nCPU per request (ms, the process tree's CPU time over the measured window"
                 " divided by the requests served):\n")
    columns = list(dict.fromkeys(
        name for r in rows for sc in ("create", "mixed") for name in r[sc]["cpu_ms"]  # type: ignore[index]
    ))
    lines.append("| database | scenario | " + " | ".join(columns) + " |")
    lines.append("| --- | --- |" + " --- |" * len(columns))
    for r in rows:
        for scenario in ("create", "mixed"):
            cpu = r[scenario]["cpu_ms"]  # type: ignore[index]
            cells = [f"{cpu[c]:.2f}" if c in cpu else "" for c in columns]
            lines.append(f"| {r['label']} | {scenario} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    command = (
        f"flock /tmp/bench.lock .venv/bin/python bench/citus/run.py --duration {args.duration}"
        f" --warmup {args.warmup} --workers {args.workers} --citus-workers {args.citus_workers}"
        f" --probes {args.probes}"
    )
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = Path(os.environ.get("CITUS_REPORT", ROOT / "bench" / "CITUS.md"))
    out.write_text(REPORT.format(table=table, command=command, date=stamp, load=os.getloadavg()[0]))


READING = """
All of it shares this machine's 2 cores: wrk, the service, and every PostgreSQL server of the
cluster. A cluster cannot be faster than one server here; what the run shows is what a command
and a query cost on each node (the CPU table), from which docs/scaling.md reasons about a
cluster whose nodes have cores of their own.
"""

REPORT = """# The service on Citus, next to one PostgreSQL

`{command}`, {date}; load average {load:.2f} when it finished.

One `tasks serve` (authenticated, log level WARNING), 32 wrk connections, the create scenario
(POST /api/w{{1..1000}}/tasks) then the mixed one (20% create, 10% toggle, 70% list), each
after a warm-up, on the benchmark's 100,000 seeded tasks: first on one plain PostgreSQL 15
server, then on a Citus cluster, both started by the script on this same machine with the same
build and settings (tests/support/citus.py: ../shared/citus/cluster.sh; the single server's
database has no citus extension). Feed delay: one create at a time, the
time from its response until its event is in the log below the visible mark, polled every 2 ms
(the leader's sequencer alone; a feed request would sequence itself and include it at once).

{table}
""" + READING


if __name__ == "__main__":
    asyncio.run(main())
