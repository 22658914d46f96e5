"""The event log is append-only, enforced by the database: triggers refuse every change."""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from events.types import TaskCreated
from tests.support.databases import connect, drop_role
from tests.support.random_refs import random_user
from tests.support.seed import Writer


async def seeded(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await Writer(conn, random_user()).append(datetime.now(UTC), TaskCreated(title="x"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}' WHERE position = $1",
        "UPDATE events SET recorded_at = now() WHERE position = $1",
        "DELETE FROM events WHERE position = $1",
    ],
)
async def test_changing_or_deleting_an_event_is_refused(pool: asyncpg.Pool, statement: str) -> None:
    position = await seeded(pool)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement, position)
        assert await conn.fetchval("SELECT data FROM events WHERE position = $1", position) == {
            "title": "x",
            "description": None,
            "completed": False,
        }


async def test_truncating_the_log_is_refused(scratch_url: str) -> None:
    # In the scratch database: TRUNCATE locks the whole table before its trigger refuses.
    conn = await connect(scratch_url)
    try:
        await Writer(conn, random_user()).append(datetime.now(UTC), TaskCreated(title="x"))
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE events")
        assert await conn.fetchval("SELECT count(*) FROM events") >= 1
    finally:
        await conn.close()


async def test_the_erasure_setting_does_not_let_another_role_change_events(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    """Any role may set tasks.erasure; only the log's owner (inside erase_user) gets through,
    even for a role that was granted UPDATE and DELETE."""
    position = await seeded(pool)
    role = f"writer_{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn:
        # LOGIN: on Citus the statement runs on the workers over connections of this role
        await conn.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            await conn.execute(f'GRANT UPDATE, DELETE, SELECT ON events TO "{role}"')
            for statement in (
                "UPDATE events SET data = '{}' WHERE position = $1",
                "DELETE FROM events WHERE position = $1",
            ):
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL ROLE "{role}"')
                    await erasure_mode(conn)
                    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                        await conn.execute(statement, position)
        finally:
            await drop_role(migrated_url, role)


async def test_even_the_owner_in_erasure_mode_may_not_move_an_event(pool: asyncpg.Pool) -> None:
    position = await seeded(pool)
    async with pool.acquire() as conn:
        for statement in (
            "UPDATE events SET type = 'TaskDeleted' WHERE position = $1",
            "UPDATE events SET recorded_at = now() WHERE position = $1",
            "UPDATE events SET version = version + 100 WHERE position = $1",
        ):
            async with conn.transaction():
                await erasure_mode(conn)
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only the data"):
                    await conn.execute(statement, position)
        async with conn.transaction():
            await erasure_mode(conn)
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("DELETE FROM events WHERE position = $1", position)


async def test_the_erasure_setting_ends_with_its_transaction(pool: asyncpg.Pool) -> None:
    position = await seeded(pool)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SELECT set_config('tasks.erasure', 'on', true)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE events SET data = '{}' WHERE position = $1", position)


async def test_appending_still_works(pool: asyncpg.Pool) -> None:
    assert await seeded(pool) > 0


async def erasure_mode(conn: asyncpg.Connection) -> None:
    """What erase_user switches on, for this transaction: on Citus, on the workers too
    (Citus passes SET LOCAL on only when told to; one server ignores the first setting)."""
    await conn.execute("SET LOCAL citus.propagate_set_commands = 'local'")
    await conn.execute("SET LOCAL tasks.erasure = 'on'")
