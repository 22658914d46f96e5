"""A real Citus cluster for the `citus` test tier (`pytest --citus`; docs/scaling.md).

The cluster is the one ../shared/citus/cluster.sh starts (a coordinator and workers, each a
PostgreSQL 15 server on 127.0.0.1, the extension built by build.sh), in a data folder of
this run's own, stopped and removed at the end. TASKS_CITUS_SCRIPTS names the folder of
the two scripts (default: ../shared/citus beside the repository), TASKS_CITUS_PORT the
coordinator's port (default 9710; the workers take the next ones).

A database other than `postgres` needs the extension in it on every node and the nodes
registered in it again: new_database does that, so the tests' scratch databases are
distributed like the main one.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from tests.support.databases import on_database

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(os.environ.get("TASKS_CITUS_SCRIPTS") or ROOT.parent / "shared" / "citus")
WORKERS = 2


def _script(name: str, *args: str, data: Path) -> str:
    done = subprocess.run(
        ["bash", str(SCRIPTS / name), *args],
        env={**os.environ, "CITUS_DATA": str(data)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


@contextmanager
def cluster(port: int | None = None, workers: int | None = None) -> Iterator[str]:
    """A fresh coordinator and WORKERS (or `workers`) workers; yields the coordinator's URL."""
    base = str(port or int(os.environ.get("TASKS_CITUS_PORT", "9710")))
    count = str(WORKERS if workers is None else workers)
    _script("build.sh", data=Path(tempfile.gettempdir()))  # does nothing once installed
    data = Path(tempfile.mkdtemp(prefix="tasks-citus-"))
    try:
        url = _script("cluster.sh", "start", base, count, data=data).splitlines()[-1]
        yield url
    finally:
        _script("cluster.sh", "stop", base, count, data=data)
        shutil.rmtree(data, ignore_errors=True)


async def is_citus(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"
            )
        )
    finally:
        await conn.close()


async def _nodes(url: str) -> list[int]:
    """The ports of the coordinator and its workers."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT nodeport FROM pg_dist_node ORDER BY groupid")
    finally:
        await conn.close()
    return [r["nodeport"] for r in rows]


def _on_port(url: str, port: int, database: str) -> str:
    parts = urlsplit(on_database(url, database))
    return parts._replace(netloc=f"{parts.username or 'postgres'}@{parts.hostname}:{port}").geturl()


async def new_database(url: str, name: str, *, template: str | None = None) -> str:
    """CREATE DATABASE on the server of `url`; on a Citus coordinator, on every node, with
    the extension and the nodes registered. Returns the new database's URL."""
    citus = await is_citus(url)
    ports = await _nodes(url) if citus else []
    admin = await asyncpg.connect(on_database(url, "postgres"))
    try:
        suffix = f" TEMPLATE {template}" if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{suffix}')  # a name the test made
    finally:
        await admin.close()
    if not citus:
        return on_database(url, name)
    coordinator, workers = ports[0], ports[1:]
    for port in workers:
        conn = await asyncpg.connect(_on_port(url, port, "postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        finally:
            await conn.close()
    for port in ports:
        conn = await asyncpg.connect(_on_port(url, port, name))
        try:
            await conn.execute("SET client_min_messages = warning; CREATE EXTENSION citus")
        finally:
            await conn.close()
    conn = await asyncpg.connect(_on_port(url, coordinator, name))
    try:
        await conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', $1)", coordinator)
        for port in workers:
            await conn.execute("SELECT citus_add_node('127.0.0.1', $1)", port)
    finally:
        await conn.close()
    return _on_port(url, coordinator, name)


async def drop_database(url: str, name: str) -> None:
    """DROP DATABASE, on every node of a Citus cluster."""
    if await is_citus(url):
        targets = [_on_port(url, port, "postgres") for port in await _nodes(url)]
    else:
        targets = [on_database(url, "postgres")]
    for target in targets:
        conn = await asyncpg.connect(target)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
