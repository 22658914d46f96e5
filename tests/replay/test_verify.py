"""tasks verify: the read table against the fold of the log, with a report of each difference."""

from uuid import uuid4

import asyncpg

from tests.support.replay import fill_log, tasks_cli, verify_now


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
