"""Fixtures: a real PostgreSQL (DATABASE_URL, else an embedded one), the app, a client."""

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.db import create_pool
from app.runtime.embedded import EmbeddedPostgres
from app.runtime.migrate import migrate_url
from app.settings import Settings
from events import upcast as upcasting
from tests.support.legacy import created_v0_to_v1
from tests.support.servers import LiveServer, signed_client
from tests.support.tokens import SECRET


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


@pytest.fixture(scope="session")
def live_server(migrated_url: str) -> Iterator[LiveServer]:
    server = LiveServer(migrated_url)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def legacy_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upcaster of tests/support/legacy.py's older TaskCreated, for one test."""
    monkeypatch.setitem(upcasting.UPCASTERS, ("TaskCreated", 0), created_v0_to_v1)
