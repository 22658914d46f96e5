"""Servers for tests: `tasks serve` in a process of its own, and in-process clients that sign
each request as the user its path names."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.tokens import SECRET, SignByPath


def signed_client(app: Litestar) -> AsyncTestClient[Litestar]:
    """A test client that signs each /api request for the user its path names (as a real
    client of that user would); a test that sets Authorization itself keeps its own."""
    client = AsyncTestClient(app)
    client.auth = SignByPath()
    return client


class LiveServer:
    """`tasks serve` in a process of its own, on a free port, with the tests' token secret.

    Its log goes to a file (a pipe nobody reads would fill up and stall the server).
    """

    def __init__(self, database_url: str, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = SignByPath()
        self.log = tempfile.NamedTemporaryFile(prefix="tasks-live-", suffix=".log")  # noqa: SIM115
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TASKS_LOG_LEVEL": "WARNING",
            "TASKS_MIGRATE_ON_START": "false",
            "TASKS_AUTH_SECRET": SECRET,
            **env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client for this server that signs each request for the user in its path."""
        return httpx.AsyncClient(base_url=self.url, auth=self.auth, **kwargs)

    def log_text(self) -> str:
        if self.log.closed:
            return self._last_log
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("server did not become ready")

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown code runs."""
        for pid in [*_children(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._last_log = self.log_text()
        self.log.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
