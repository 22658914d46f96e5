"""Migrations: applied in order, recorded, rerunnable; readiness reflects them."""

import subprocess
import sys

import asyncpg

import sql
from app.runtime.db import init_connection
from tests.support.seed import create, new_task


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_tasks_migrate_applies_every_migration_once_and_can_rerun(
    fresh_database: str,
) -> None:
    first = run_cli(fresh_database, "migrate")
    assert first.returncode == 0, first.stderr
    names = [file.name for file in sql.migrations()]
    assert f"applied {len(names)} migration(s)" in first.stdout
    again = run_cli(fresh_database, "migrate")
    assert (again.returncode, again.stdout.strip()) == (0, "applied 0 migration(s)")
    conn = await asyncpg.connect(fresh_database)
    try:
        recorded = [
            r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        ]
        tables = {
            r["relname"]
            for r in await conn.fetch("SELECT relname FROM pg_class WHERE relkind = 'r'")
        }
    finally:
        await conn.close()
    assert recorded == names
    assert {"events", "tasks", "schema_migrations"} <= tables


async def test_every_migration_can_run_again_on_a_database_in_use(fresh_database: str) -> None:
    """Each file, not just the runner, is safe to rerun: run them all a second time by hand
    on a migrated database that holds data."""
    assert run_cli(fresh_database, "migrate").returncode == 0
    conn = await asyncpg.connect(fresh_database)
    try:
        await init_connection(conn)
        await create(conn, new_task("rerun", "kept"))
        for file in (*sql.migrations(), *sql.definitions()):
            try:
                await conn.execute(file.text)
            except asyncpg.PostgresError as exc:
                raise AssertionError(f"{file.name} cannot run twice: {exc}") from exc
        await conn.execute("SELECT sequence_events()")  # the acknowledged create, in the log
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
        assert await conn.fetchval("SELECT title FROM tasks") == "kept"
    finally:
        await conn.close()
