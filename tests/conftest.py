"""Fixtures: a real PostgreSQL (DATABASE_URL, else an embedded one), the app, a client."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.db import create_pool
from app.runtime.embedded import EmbeddedPostgres
from app.runtime.migrate import migrate_url
from app.settings import Settings
from tests.tokens import SECRET, SignByPath


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="tasks-test-pg-"))
    embedded = EmbeddedPostgres(folder)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def migrated_url(database_url: str) -> str:
    await migrate_url(database_url)
    return database_url


@pytest.fixture
async def fresh_database(migrated_url: str) -> AsyncIterator[str]:
    """An empty database on the same server, for tests that need the whole database to
    themselves (leader election, migrations); dropped afterwards."""
    name = f"tasks_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(migrated_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(migrated_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def settings(migrated_url: str) -> Settings:
    return Settings(
        database_url=migrated_url, log_level="WARNING", auth_secret=SECRET, _env_file=None
    )


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert settings.database_url
    pool = await create_pool(settings.database_url, settings)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with signed_client(app) as client:
        yield client


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
        self.port = _free_port()
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(migrated_url: str) -> Iterator[LiveServer]:
    server = LiveServer(migrated_url)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
