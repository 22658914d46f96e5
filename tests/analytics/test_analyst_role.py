"""The analysts' read-only role: connecting as it, it reads the views and the log, nothing else,
and writes nothing."""

import asyncio
import base64
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from app.analytics.role import ensure_analyst_role, scram_sha256_verifier
from tests.support.databases import AnalystFactory, connect, connect_as, drop_role

READABLE = (
    "events",
    "analytics.events",
    "analytics.task_lifecycle",
    "analytics.user_daily_activity",
)


async def test_the_role_reads_the_views_and_the_log(
    migrated_url: str, make_analyst: AnalystFactory
) -> None:
    role, password = await make_analyst(migrated_url)
    conn = await connect_as(migrated_url, role, password)
    try:
        assert await conn.fetchval("SELECT current_user") == role
        for relation in READABLE:
            await conn.fetch(f"SELECT * FROM {relation} LIMIT 1")  # our constant names
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("SELECT * FROM tasks", asyncpg.InsufficientPrivilegeError),
        ("SELECT * FROM schema_migrations", asyncpg.InsufficientPrivilegeError),
        ("SELECT * FROM export_selection", asyncpg.InsufficientPrivilegeError),
        (
            "INSERT INTO events (user_id, stream_id, version, type, data, recorded_at) "
            "VALUES ('x', gen_random_uuid(), 1, 'TaskCreated', '{}', now())",
            asyncpg.InsufficientPrivilegeError,
        ),
        ("UPDATE events SET data = '{}' WHERE false", asyncpg.InsufficientPrivilegeError),
        ("DELETE FROM events WHERE false", asyncpg.InsufficientPrivilegeError),
        ("CREATE TABLE mine (x int)", asyncpg.InsufficientPrivilegeError),
        ("CREATE TABLE analytics.mine (x int)", asyncpg.InsufficientPrivilegeError),
        ("CREATE VIEW analytics.mine AS SELECT 1", asyncpg.InsufficientPrivilegeError),
        ("SELECT * FROM erase_user('someone', 'me')", asyncpg.InsufficientPrivilegeError),
        ("SELECT ensure_analyst_role('someone_else')", asyncpg.InsufficientPrivilegeError),
        ("CREATE ROLE someone_else", asyncpg.InsufficientPrivilegeError),
    ],
)
async def test_the_role_can_do_nothing_else_even_in_a_read_write_transaction(
    migrated_url: str, make_analyst: AnalystFactory, statement: str, error: type[Exception]
) -> None:
    role, password = await make_analyst(migrated_url)
    conn = await connect_as(migrated_url, role, password)
    try:
        # By default its transactions are read-only; privileges alone must also say no.
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("DELETE FROM events WHERE false")
        await conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(error):
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_the_catalog_grants_select_on_the_log_and_the_views_and_nothing_more(
    pool: asyncpg.Pool, migrated_url: str, make_analyst: AnalystFactory
) -> None:
    role, _ = await make_analyst(migrated_url)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT c.oid::regclass::text AS relation,
                   has_table_privilege($1, c.oid, 'SELECT') AS can_read,
                   has_table_privilege($1, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                       AS can_write
              FROM pg_class AS c
              JOIN pg_namespace AS n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('public', 'analytics')
               AND c.relkind IN ('r', 'v', 'm', 'p', 'S', 'f')
               -- an extension's own (Citus puts views of its metadata in public)
               AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                                WHERE d.objid = c.oid AND d.deptype = 'e')
            """,
            role,
        )
        can_create = await conn.fetchval(
            "SELECT has_schema_privilege($1, 'public', 'CREATE')"
            " OR has_schema_privilege($1, 'analytics', 'CREATE')",
            role,
        )
    assert {r["relation"] for r in rows if r["can_read"]} == set(READABLE)
    assert [r["relation"] for r in rows if r["can_write"]] == []
    assert not can_create


async def test_the_stored_password_is_the_one_given(
    pool: asyncpg.Pool, migrated_url: str, make_analyst: AnalystFactory
) -> None:
    """The embedded server trusts local connections, so a login proves nothing about the
    password: check the stored SCRAM verifier against the password instead."""
    role, password = await make_analyst(migrated_url)
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
    salt = base64.b64decode(stored.split("$")[1].split(":")[1])
    assert stored == scram_sha256_verifier(password, salt)


async def test_our_scram_verifier_is_the_servers(pool: asyncpg.Pool, migrated_url: str) -> None:
    role = f"probe_{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn:
        await conn.execute("SET password_encryption = 'scram-sha-256'")
        await conn.execute(
            f"CREATE ROLE \"{role}\" PASSWORD 'correct-horse-battery-9'"
        )  # constants
        try:
            stored = await conn.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
            )
        finally:
            await conn.execute(f'DROP ROLE "{role}"')
    salt = base64.b64decode(stored.split("$")[1].split(":")[1])
    assert scram_sha256_verifier("correct-horse-battery-9", salt) == stored


async def test_rerunning_updates_the_role_and_refuses_one_that_can_do_more(
    pool: asyncpg.Pool, migrated_url: str, make_analyst: AnalystFactory
) -> None:
    role, _ = await make_analyst(migrated_url)
    powerful = f"admin_{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn:
        assert await ensure_analyst_role(conn, role, "another-password") is False
        await conn.execute(f'CREATE ROLE "{powerful}" CREATEROLE')
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="can do more"):
                await ensure_analyst_role(conn, powerful)
            assert await conn.fetchval(
                "SELECT rolcreaterole FROM pg_roles WHERE rolname = $1", powerful
            )
        finally:
            await drop_role(migrated_url, powerful)
        for bad in ("Robert", "pg_reader", "1abc", "a; DROP TABLE events", ""):
            with pytest.raises(ValueError, match="role name"):
                await ensure_analyst_role(conn, bad)


async def test_the_command_creates_the_role_with_a_password_from_stdin(
    migrated_url: str,
) -> None:
    role, password = f"analyst_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app.cli", "analyst-role", role, "--password-stdin"],
            input=password + "\n",
            env={**os.environ, "DATABASE_URL": migrated_url, "TASKS_LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"created read-only role {role}"
        conn = await connect_as(migrated_url, role, password)
        try:
            assert await conn.fetchval("SELECT count(*) >= 0 FROM analytics.events")
        finally:
            await conn.close()
    finally:
        await drop_role(migrated_url, role)


async def test_a_wrong_password_is_refused_where_the_server_checks_passwords(
    migrated_url: str, make_analyst: AnalystFactory
) -> None:
    role, _ = await make_analyst(migrated_url)
    admin = await connect(migrated_url)
    try:
        checks = await admin.fetchval(
            "SELECT count(*) > 0 FROM pg_hba_file_rules WHERE auth_method LIKE 'scram%' OR auth_method = 'md5'"
        )
    finally:
        await admin.close()
    if not checks:
        pytest.skip(
            "this server trusts every local connection (pg_hba.conf): passwords are not checked"
        )
    with pytest.raises(asyncpg.InvalidPasswordError):
        await connect_as(migrated_url, role, "wrong")
