"""The advisory lock keys have one definition (sql/functions/tasks_lock_key.sql) that SQL
and Python read alike."""

import asyncpg
import pytest

from app.runtime.locks import lock_key

NAMES = ("sequence", "migrate", "rebuild", "leader", "import")


async def test_python_and_sql_read_the_same_keys(pool: asyncpg.Pool) -> None:
    for name in NAMES:
        assert await pool.fetchval("SELECT tasks_lock_key($1)", name) == lock_key(name), name
    assert len({lock_key(name) for name in NAMES}) == len(NAMES)


async def test_an_unknown_lock_name_is_an_error_not_a_null_key(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.InvalidParameterValueError):
        await pool.fetchval("SELECT tasks_lock_key('apend')")
    with pytest.raises(KeyError):
        lock_key("apend")
