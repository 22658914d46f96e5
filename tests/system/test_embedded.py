"""`tasks serve` on the embedded PostgreSQL, as a user runs it: a quiet first start, and
Ctrl-C stopping PostgreSQL even after an earlier run died without stopping it."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.servers import free_port
from tests.system.test_quickstart import fresh_environment, wait_ready

pytestmark = pytest.mark.slow

# The one log format (app/logs.py): time, level, logger, message.
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) \S+: ")


class Serve:
    """`tasks serve` on a data folder, its stderr kept in a file."""

    def __init__(self, tmp_path: Path, data: Path, name: str) -> None:
        self.port, self.log = free_port(), tmp_path / f"{name}.log"
        self.env = fresh_environment(data, self.port)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"], env=self.env, cwd=tmp_path, stderr=log
            )
        wait_ready(f"http://127.0.0.1:{self.port}", self.process)

    def signal_and_wait(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()


def postmaster(data: Path) -> int | None:
    """The running postmaster's pid, from its postmaster.pid, or None."""
    pid_file = data / "pg" / "postmaster.pid"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(pid_file.read_text().split()[0])
        return pid if alive(pid) else None
    return None


def alive(pid: int) -> bool:
    """Running (a zombie has stopped; in a container nobody may reap it)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def data(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    yield folder
    if (pid := postmaster(folder)) is not None:  # a failed test must not leave it running
        os.kill(pid, signal.SIGTERM)


def test_a_first_start_is_a_few_lines_in_one_format(tmp_path: Path, data: Path) -> None:
    server = Serve(tmp_path, data, "first")
    assert httpx.get(f"http://127.0.0.1:{server.port}/api/alice/tasks").status_code == 401
    assert server.signal_and_wait(signal.SIGINT) == 0
    lines = server.lines()
    assert len(lines) < 25, lines
    assert all(LOG_LINE.match(line) for line in lines), lines
    assert not any("pg_ctl" in line or "Success." in line for line in lines)
    verify = subprocess.run(
        [sys.executable, "-m", "app.cli", "verify"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    assert not [line for line in verify.stderr.splitlines() if " INFO " in line], verify.stderr


@pytest.mark.parametrize("first_exit", [signal.SIGKILL, signal.SIGHUP])
def test_ctrl_c_stops_postgres_after_an_earlier_run_died(
    tmp_path: Path, data: Path, first_exit: int
) -> None:
    crashed = Serve(tmp_path, data, "crashed")
    crashed.signal_and_wait(first_exit)
    if first_exit == signal.SIGHUP:  # a closed terminal stops PostgreSQL as Ctrl-C does
        assert postmaster(data) is None
    left = postmaster(data)
    again = Serve(tmp_path, data, "again")
    assert again.signal_and_wait(signal.SIGINT) == 0
    time.sleep(0.5)
    assert postmaster(data) is None, again.lines()
    assert left is None or not alive(left)
