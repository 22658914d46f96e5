"""Fixtures for the analysts' features: a scratch database of our own, read-only roles."""

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from app.analytics.role import ensure_analyst_role
from app.runtime.migrate import migrate_url
from tests.support import citus
from tests.support.databases import AnalystFactory, drop_role


@pytest.fixture(scope="module")
async def scratch_url(database_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database beside the test database, one per test module, for tests
    that need the whole log to themselves (seeded answers, TRUNCATE); dropped after."""
    name = f"{urlsplit(database_url).path.lstrip('/')}_analytics_{uuid.uuid4().hex[:8]}"
    url = await citus.new_database(database_url, name, template="template0")
    try:
        await migrate_url(url)
        yield url
    finally:
        await citus.drop_database(database_url, name)


@pytest.fixture
async def make_analyst() -> AsyncIterator[AnalystFactory]:
    """make_analyst(url) -> (role, password): a fresh read-only role on that database."""
    made: list[tuple[str, str]] = []

    async def make(url: str) -> tuple[str, str]:
        role = f"analyst_{uuid.uuid4().hex[:12]}"
        password = uuid.uuid4().hex
        conn = await asyncpg.connect(url)
        try:
            await ensure_analyst_role(conn, role, password)
        finally:
            await conn.close()
        made.append((url, role))
        return role, password

    yield make
    for url, role in made:
        await drop_role(url, role)
