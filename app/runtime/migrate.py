"""`tasks migrate`: pending migrations in order, then every function and view whose file
changed since it was last applied (the order and the `-- needs:` lines: sql/__init__.py).

On a Citus coordinator (the citus extension is installed) the definitions are the Citus
variants where sql/citus/ has one, and the tables are then distributed
(sql/citus/distribute.sql; docs/scaling.md)."""

import logging

import asyncpg

import sql
from app.runtime.locks import lock_key

log = logging.getLogger("tasks.db")

_RECORD_TABLES = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text        PRIMARY KEY,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schema_definitions (
    name       text        PRIMARY KEY,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
_RECORD = """
INSERT INTO {table} (name, checksum)
VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE
   SET checksum = excluded.checksum,
       applied_at = now()"""


class _Run:
    """One migrate run: what the database has recorded, and what this run applied."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.applied: list[str] = []
        self.citus = False

    async def load(self) -> None:
        self.citus = await is_citus(self.conn)
        await self.conn.execute(_RECORD_TABLES)
        self.migrations = await _recorded(self.conn, "schema_migrations")
        self.definitions = await _recorded(self.conn, "schema_definitions")

    async def apply(self, file: sql.SqlFile, table: str) -> None:
        async with self.conn.transaction():
            await self.conn.execute(file.text)
            await self.conn.execute(_RECORD.format(table=table), file.name, file.checksum)
        log.debug("applied %s", file.name)
        self.applied.append(file.name)

    async def define(self, names: tuple[str, ...] | list[str]) -> None:
        """Apply the named definitions (and what they need) whose text changed."""
        for file in sql.needed_first(names, citus=self.citus):
            if self.definitions.get(file.name) != file.checksum:
                await self.apply(file, "schema_definitions")
                self.definitions[file.name] = file.checksum

    async def migrate(self, file: sql.SqlFile) -> None:
        recorded = self.migrations.get(file.name)
        if recorded is None:
            await self.define(file.needs)
            await self.apply(file, "schema_migrations")
        elif recorded in file.replaces:  # rewritten on purpose, same schema: record the text
            await self.conn.execute(
                _RECORD.format(table="schema_migrations"), file.name, file.checksum
            )
        elif recorded != file.checksum:
            log.warning("migration %s changed since it was applied; not rerun", file.name)


_IS_CITUS = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"


async def is_citus(conn: asyncpg.Connection) -> bool:
    """Whether the database is a Citus coordinator's (has the citus extension)."""
    return bool(await conn.fetchval(_IS_CITUS))


async def _recorded(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    """name -> checksum of what one of the two record tables holds (none if it is missing)."""
    if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
        return {}
    rows = await conn.fetch(f"SELECT name, checksum FROM {table}")  # our own table's name
    return {r["name"]: r["checksum"] for r in rows}


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations, then changed definitions; return the names applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key("migrate"))
    try:
        run = _Run(conn)
        await run.load()
        for file in sql.migrations():
            await run.migrate(file)
        await run.define([file.name for file in sql.definitions(citus=run.citus)])
        if run.citus:
            await conn.execute(sql.citus_distribute())
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key("migrate"))
    return run.applied


async def pending_migrations(conn: asyncpg.Connection) -> list[str]:
    """Migrations not yet applied and definitions changed since they were: what
    `tasks migrate` would apply."""
    migrations = await _recorded(conn, "schema_migrations")
    definitions = await _recorded(conn, "schema_definitions")
    citus = await is_citus(conn)
    return [f.name for f in sql.migrations() if f.name not in migrations] + [
        f.name for f in sql.definitions(citus=citus) if definitions.get(f.name) != f.checksum
    ]


async def migrate_url(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
