"""Rebuild and verify change the whole read table, so their tests get a database of their own."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from app.runtime.migrate import migrate_url
from tests.support import citus


@pytest.fixture
async def scratch_url(database_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database on the test server, dropped afterwards."""
    name = f"tasks_scratch_{uuid4().hex[:12]}"
    try:
        url = await citus.new_database(database_url, name)
        await migrate_url(url)
        yield url
    finally:
        await citus.drop_database(database_url, name)
