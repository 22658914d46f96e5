"""tasks verify: the read table against the fold of the log, with a report of each difference."""

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from tests.replay.conftest import fill_log, on_database, tasks_cli, verify_now


async def test_a_read_table_written_by_the_projector_verifies_equal_and_exits_0(
    scratch_url: str,
) -> None:
    events = await fill_log(scratch_url, tasks=300)
    done = tasks_cli(scratch_url, "verify", "--batch-size", "50")
    assert done.returncode == 0, done.stderr
    assert "the read table equals the fold of the log" in done.stdout
    assert f"{events:,} events folded" in done.stdout


async def test_a_changed_a_missing_and_a_bogus_row_are_each_reported_and_exit_1(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=300)
    conn = await asyncpg.connect(scratch_url)
    try:
        changed, deleted = await conn.fetch("SELECT * FROM tasks ORDER BY random() LIMIT 2")
        await conn.execute(
            "UPDATE tasks SET title = 'Tampered' WHERE user_id = $1 AND id = $2",
            changed["user_id"],
            changed["id"],
        )
        await conn.execute(
            "DELETE FROM tasks WHERE user_id = $1 AND id = $2", deleted["user_id"], deleted["id"]
        )
        bogus = uuid4()
        await conn.execute(
            "INSERT INTO tasks SELECT user_id, $1, 'Bogus', NULL, false, created_at, updated_at, 1"
            " FROM tasks LIMIT 1",
            bogus,
        )
    finally:
        await conn.close()

    verified = await verify_now(scratch_url)
    found = {(d.kind, str(d.task_id)) for d in verified.differences}
    assert found == {
        ("differs", str(changed["id"])),
        ("missing", str(deleted["id"])),
        ("extra", str(bogus)),
    }
    assert verified.total == 3
    [differs] = [d for d in verified.differences if d.kind == "differs"]
    assert differs.fields == {"title": (changed["title"], "Tampered")}

    done = tasks_cli(scratch_url, "verify")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert "3 difference(s)" in lines[0]
    assert any(
        line.startswith("  differs")
        and f"user {changed['user_id']} task {changed['id']}" in line
        and f"title: log {changed['title']!r}, table 'Tampered'" in line
        for line in lines
    )
    assert any(line.startswith("  missing") and f"task {deleted['id']}" in line for line in lines)
    assert any(line.startswith("  extra") and f"task {bogus}" in line for line in lines)


async def test_an_empty_log_and_an_empty_table_are_equal(scratch_url: str) -> None:
    verified = await verify_now(scratch_url)
    assert (verified.events, verified.tasks, verified.differences) == (0, 0, [])


async def test_a_database_behind_on_migrations_is_refused_with_a_message(
    database_url: str,
) -> None:
    name = f"tasks_scratch_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = on_database(database_url, name)
        for command, code in (("verify", 2), ("rebuild", 1)):
            done = tasks_cli(url, command)
            assert done.returncode == code
            assert "run `tasks migrate`" in done.stderr
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.mark.slow
def test_with_no_database_url_both_commands_run_on_the_embedded_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"TASKS_DATA_DIR": str(tmp_path / "data"), "TASKS_LOG_LEVEL": "WARNING"}

    def tasks(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "app.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    assert tasks("migrate").returncode == 0
    rebuilt = tasks("rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt 0 tasks from 0 events" in rebuilt.stdout
    verified = tasks("verify")
    assert verified.returncode == 0, verified.stderr
    assert "equals the fold of the log" in verified.stdout
