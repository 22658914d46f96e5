"""Fixtures for the analysts' features: a scratch database of our own, read-only roles."""

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from app.analytics.role import ensure_analyst_role
from app.runtime.db import init_connection
from app.runtime.migrate import migrate_url


def on_database(url: str, name: str) -> str:
    """The same server, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def over_tcp(url: str) -> bool:
    host = urlsplit(url).hostname
    return bool(host) and not host.startswith("/")


async def connect(url: str, **kwargs: Any) -> asyncpg.Connection:
    """A connection with the app's jsonb codec."""
    conn = await asyncpg.connect(url, **kwargs)
    await init_connection(conn)
    return conn


async def drop_role(admin_url: str, role: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP OWNED BY "{role}"')  # our own generated name
        await conn.execute(f'DROP ROLE "{role}"')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def scratch_url(database_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database beside the test database, one per test module, for tests
    that need the whole log to themselves (seeded answers, TRUNCATE); dropped after."""
    name = f"{urlsplit(database_url).path.lstrip('/')}_analytics_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(on_database(database_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')  # a name we made
        url = on_database(database_url, name)
        await migrate_url(url)
        yield url
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


AnalystFactory = Callable[[str], Coroutine[Any, Any, tuple[str, str]]]


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


async def connect_as(url: str, role: str, password: str) -> asyncpg.Connection:
    """Log in as the role: with its password over TCP; the embedded server's unix socket
    trusts local users, so no password there."""
    return await connect(url, user=role, password=password if over_tcp(url) else None)
