"""A mistake on the command line is one clear line on stderr and a non-zero status, never a
traceback; and the help says what each command does, its defaults and its formats."""

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.tokens import SECRET


def tasks(
    *args: str, stdout: int = subprocess.PIPE, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and "TASKS_" not in k}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**base, **env},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode not in (0, None), done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    ("variable", "value"), [("TASKS_AUTH_SECRET", "short-and-secret"), ("TASKS_PORT", "abc")]
)
def test_a_bad_setting_is_one_line_naming_the_variable_not_its_value(
    variable: str, value: str
) -> None:
    line = one_line(tasks("token", "alice", **{variable: value}))
    assert variable in line
    assert value not in line


def test_an_unreachable_database_is_one_line_before_anything_says_serving() -> None:
    done = tasks(
        "serve",
        "--port",
        str(free_port()),
        DATABASE_URL="postgresql://postgres:pw-not-shown@127.0.0.1:1/nowhere",
        TASKS_AUTH_SECRET=SECRET,
    )
    line = one_line(done)
    assert "cannot reach the database at 127.0.0.1:1/nowhere" in line
    assert "pw-not-shown" not in line
    assert "serving on" not in done.stderr


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    """`tasks token alice | head -c 40`: the pipe closes before the token is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = tasks("token", "alice", stdout=write_end, TASKS_AUTH_SECRET=SECRET)
    finally:
        os.close(write_end)
    assert done.returncode == 141  # as a shell reports a tool that SIGPIPE ended
    assert done.stderr == ""


def test_version_and_help() -> None:
    assert tasks("--version").stdout.strip() == f"tasks {version('tasks-es')}"
    assert "apply the SQL migrations" in tasks("migrate", "--help").stdout
    export = " ".join(tasks("events", "export", "--help").stdout.split())
    assert "(default: ndjson)" in export
    assert "RFC 3339 (2026-11-26T16:00:00Z) or a date (2026-11-26)" in export
    for command in ("rebuild", "verify"):
        assert "(default: 50000)" in tasks(command, "--help").stdout


def test_a_file_that_cannot_be_written_is_not_called_an_unreachable_database(
    migrated_url: str, tmp_path: Path
) -> None:
    # The database is fine; the output folder does not exist. An OSError with a file name is
    # the file system's, not the connection's.
    target = tmp_path / "no-such-folder" / "events.ndjson"
    done = tasks("events", "export", "-o", str(target), DATABASE_URL=migrated_url)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "cannot reach the database" not in done.stderr
    assert f"tasks: No such file or directory: {target}" in done.stderr
