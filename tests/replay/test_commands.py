"""The two commands as an operator runs them: schema checks, and the embedded server."""

import os
import re
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest

from tests.support import citus
from tests.support.replay import fill_log, tasks_cli


async def test_a_database_behind_on_migrations_is_refused_with_a_message(
    database_url: str,
) -> None:
    name = f"tasks_scratch_{uuid4().hex[:12]}"
    url = await citus.new_database(database_url, name)
    try:
        for command, code in (("verify", 2), ("rebuild", 1)):
            done = tasks_cli(url, command)
            assert done.returncode == code
            assert "run `tasks migrate`" in " ".join(done.stderr.split())  # however it wraps
    finally:
        await citus.drop_database(database_url, name)


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


def bar_rate(stderr: str) -> float:
    """The events/s the progress bar ended on (rich prints its last state when not a TTY)."""
    rates = re.findall(r"([\d,]+) events/s", stderr)
    assert rates, stderr
    return float(rates[-1].replace(",", ""))


async def test_the_bars_rate_is_real_and_agrees_with_the_summary(scratch_url: str) -> None:
    """One batch used to show "0 events/s"; a rebuild's bar followed its last burst (1,807
    events/s against a summary of 166)."""
    events = await fill_log(scratch_url, tasks=3000)
    verified = tasks_cli(scratch_url, "verify")
    assert verified.returncode == 0, verified.stderr
    assert bar_rate(verified.stderr) > 0
    rebuilt = tasks_cli(scratch_url, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    summary = re.search(r"from ([\d,]+) events.*: ([\d,]+) events/s", rebuilt.stdout)
    assert summary, rebuilt.stdout
    assert int(summary[1].replace(",", "")) == events
    said = float(summary[2].replace(",", ""))
    assert said / 2 <= bar_rate(rebuilt.stderr) <= said * 2
