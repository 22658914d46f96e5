"""A database migrated before the SQL layout changed (functions redefined inside numbered
migrations: the files as they were at 517f810, kept in tests/fixtures/) migrates to today's
layout with no error and no warning, and ends with the schema a fresh database gets."""

import logging
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

import sql
from app.runtime.migrate import migrate, pending_migrations
from tests.support.databases import on_database

OLD_LAYOUT = Path(__file__).parents[1] / "fixtures" / "migrations_517f810"

# Every object of the schemas we own, one line each, comparable across databases.
SCHEMA = """
SELECT format('schema %s %s %s', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace'))
  FROM pg_namespace AS n
 WHERE n.nspname IN ('public', 'analytics')
 UNION ALL
SELECT format('relation %s %s %s %s', c.oid::regclass, c.relkind, c.relacl,
              obj_description(c.oid, 'pg_class'))
  FROM pg_class AS c
 WHERE c.relnamespace::regnamespace::text IN ('public', 'analytics')
 UNION ALL
SELECT format('column %s %s %s %s %s %s', a.attrelid::regclass, a.attnum, a.attname,
              format_type(a.atttypid, a.atttypmod), a.attnotnull || a.attidentity,
              pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute AS a
  JOIN pg_class AS c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace::regnamespace::text IN ('public', 'analytics')
   AND a.attnum > 0
   AND NOT a.attisdropped
 UNION ALL
SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
  FROM pg_constraint
 WHERE connamespace::regnamespace::text IN ('public', 'analytics')
 UNION ALL
SELECT format('index %s', pg_get_indexdef(indexrelid))
  FROM pg_index
 WHERE indrelid::regclass::text NOT LIKE 'pg_%'
   AND indrelid::regclass::text NOT LIKE 'information_schema.%'
 UNION ALL
SELECT format('function %s %s %s', p.oid::regprocedure, p.proacl, pg_get_functiondef(p.oid))
  FROM pg_proc AS p
 WHERE p.pronamespace::regnamespace::text IN ('public', 'analytics')
 UNION ALL
SELECT format('view %s %s', c.oid::regclass, pg_get_viewdef(c.oid))
  FROM pg_class AS c
 WHERE c.relkind = 'v'
   AND c.relnamespace::regnamespace::text IN ('public', 'analytics')
 UNION ALL
SELECT format('trigger %s', pg_get_triggerdef(oid))
  FROM pg_trigger
 WHERE NOT tgisinternal
 ORDER BY 1
"""


async def apply_old_layout(conn: asyncpg.Connection) -> None:
    """What the old runner did: each file once, in name order, recorded with its checksum."""
    await conn.execute(
        "CREATE TABLE schema_migrations (name text PRIMARY KEY, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for path in sorted(OLD_LAYOUT.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        async with conn.transaction():
            await conn.execute(text)
            await conn.execute(
                "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                path.name,
                sql.checksum(text),
            )


async def schema_of(conn: asyncpg.Connection) -> list[str]:
    return [r[0] for r in await conn.fetch(SCHEMA)]


async def test_an_old_layout_database_migrates_without_warnings_to_the_fresh_schema(
    fresh_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    old = await asyncpg.connect(fresh_database)
    server_warnings: list[str] = []
    old.add_log_listener(
        lambda _, message: (
            server_warnings.append(str(message))
            if message.severity in ("WARNING", "ERROR")
            else None
        )
    )
    name = f"{urlsplit(fresh_database).path.lstrip('/')}_fresh"
    try:
        await apply_old_layout(old)
        with caplog.at_level(logging.WARNING):
            applied = await migrate(old)
        ours = [r for r in caplog.records if r.name.startswith("tasks")]
        assert [r.getMessage() for r in ours if r.levelno >= logging.WARNING] == []
        assert server_warnings == []
        old_names = {p.name for p in OLD_LAYOUT.glob("*.sql")}
        new_migrations = [f.name for f in sql.migrations() if f.name not in old_names]
        assert [n for n in applied if "/" not in n] == new_migrations
        assert sorted(n for n in applied if "/" in n) == sorted(f.name for f in sql.definitions())
        assert await pending_migrations(old) == []
        assert await migrate(old) == []

        await old.execute(f'CREATE DATABASE "{name}"')  # a name made above
        fresh = await asyncpg.connect(on_database(fresh_database, name))
        try:
            await migrate(fresh)
            assert await schema_of(old) == await schema_of(fresh)
        finally:
            await fresh.close()
    finally:
        await old.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await old.close()


async def test_a_migration_edited_by_accident_is_still_reported(
    fresh_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        await migrate(conn)
        await conn.execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE name = '0002_tasks.sql'"
        )
        with caplog.at_level(logging.WARNING):
            assert await migrate(conn) == []
    finally:
        await conn.close()
    assert "migration 0002_tasks.sql changed since it was applied" in caplog.text


async def test_a_changed_definition_is_applied_again(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        await migrate(conn)
        await conn.execute(
            "UPDATE schema_definitions SET checksum = 'old' WHERE name = 'views/export_selection.sql'"
        )
        assert await pending_migrations(conn) == ["views/export_selection.sql"]
        assert await migrate(conn) == ["views/export_selection.sql"]
    finally:
        await conn.close()
