"""Databases for tests: another database on the same server, connections with the app's
codecs, read-only roles."""

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.runtime.db import init_connection


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


AnalystFactory = Callable[[str], Coroutine[Any, Any, tuple[str, str]]]


async def connect_as(url: str, role: str, password: str) -> asyncpg.Connection:
    """Log in as the role: with its password over TCP; the embedded server's unix socket
    trusts local users, so no password there."""
    return await connect(url, user=role, password=password if over_tcp(url) else None)
