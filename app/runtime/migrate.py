"""The migration runner: numbered SQL migrations, applied in order and recorded in a table."""

import hashlib
import logging

import asyncpg

import sql
from app.runtime.locks import MIGRATE_LOCK

log = logging.getLogger("tasks.db")

_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text        PRIMARY KEY,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations in file-name order; return the names applied."""
    applied_now = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK)
    try:
        await conn.execute(_MIGRATIONS_TABLE)
        done = {
            r["name"]: r["checksum"] for r in await conn.fetch("SELECT * FROM schema_migrations")
        }
        for name, text in sql.migrations():
            if name in done:
                if done[name] != _checksum(text):
                    log.warning("migration %s changed since it was applied; not rerun", name)
                continue
            async with conn.transaction():
                await conn.execute(text)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                    name,
                    _checksum(text),
                )
            log.info("applied migration %s", name)
            applied_now.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK)
    return applied_now


async def pending_migrations(conn: asyncpg.Connection) -> list[str]:
    """Migrations in sql/ not yet recorded as applied."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    done = (
        {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        if exists
        else set()
    )
    return [name for name, _ in sql.migrations() if name not in done]


async def migrate_url(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
