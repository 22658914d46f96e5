"""Erasure and replay together: the user's own stream (UserErased) folds to no task, TaskErased
folds into every live task, and a rebuild of an erased log equals the erased read table."""

import asyncpg

from app.analytics.erasure import erase_user
from app.runtime.db import init_connection
from events.types import ERASED
from tests.support.replay import fill_log, read_table, rebuild_now, verify_now


async def test_an_erased_log_rebuilds_to_the_erased_read_table_and_verifies(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=300, users=5)
    conn = await asyncpg.connect(scratch_url)
    try:
        await init_connection(conn)
        user = await conn.fetchval("SELECT user_id FROM tasks ORDER BY user_id LIMIT 1")
        erasure = await erase_user(conn, user, "dpo")
        titles = {
            r["title"] for r in await conn.fetch("SELECT title FROM tasks WHERE user_id = $1", user)
        }
    finally:
        await conn.close()
    assert erasure.tasks_redacted > 0
    assert titles == {ERASED}
    before = await read_table(scratch_url)

    assert not (await verify_now(scratch_url)).differences
    await rebuild_now(scratch_url, restart=True)
    assert await read_table(scratch_url) == before
    assert not (await verify_now(scratch_url)).differences
