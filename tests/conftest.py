"""Fixtures: a real PostgreSQL (DATABASE_URL, else an embedded one; with --citus a Citus
cluster the tests start), the app, a client."""

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

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
from tests.support import citus
from tests.support.legacy import created_v0_to_v1
from tests.support.servers import LiveServer, signed_client
from tests.support.tokens import SECRET

# The `citus` tier (docs/scaling.md): these run on a real Citus cluster with `pytest --citus`.
# The rest need what one server has and a cluster does not (its own processes restarted or
# cut off, replicas, a database of another layout), or test no database at all.
CITUS_TIER = (
    "tests/http/",
    "tests/analytics/",
    "tests/integration/",
    "tests/replay/",
    "tests/system/test_feed_promise.py",
    "tests/system/test_stream.py",
    "tests/system/test_idempotency_races.py",
)
# Of those, tests of what has nothing to do with the database's layout (the embedded server),
# and of running migrations again or over an old layout: on Citus, migrate lays out a fresh
# database, and a migration run twice would attach its trigger to a distributed table again.
CITUS_EXCLUDED = (
    "tests/replay/test_commands.py::test_with_no_database_url_both_commands_run_on_the_embedded_server",
    "tests/integration/test_migrations.py::test_every_migration_can_run_again_on_a_database_in_use",
    "tests/integration/test_migration_layout.py::test_an_old_layout_database_migrates_without_warnings_to_the_fresh_schema",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--citus",
        action="store_true",
        help="run the `citus` tier on a Citus cluster started for the run (tests/support/citus.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "citus: runs on a Citus cluster too (pytest --citus)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(config.rootpath)
    for item in items:
        path = Path(item.path).relative_to(root).as_posix()
        if path.startswith(CITUS_TIER) and f"{path}::{item.name}" not in CITUS_EXCLUDED:
            item.add_marker(pytest.mark.citus)
    if config.getoption("--citus"):
        kept = [i for i in items if i.get_closest_marker("citus")]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("--citus"):
        with citus.cluster() as url:
            yield url
        return
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
    url = await citus.new_database(migrated_url, name)
    try:
        yield url
    finally:
        await citus.drop_database(migrated_url, name)


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
