"""tasks rebuild refuses, with a message and nothing changed, what it must not do."""

import asyncpg
import pytest

from projections.rebuild import RebuildError
from projections.verify import VerifyError
from tests.support.replay import fill_log, read_table, rebuild_now, verify_now


async def test_a_second_rebuild_and_a_verify_are_refused_while_one_runs(scratch_url: str) -> None:
    other = await asyncpg.connect(scratch_url)
    try:
        await other.execute(
            "SELECT pg_advisory_lock(tasks_lock_key('rebuild'))"
        )  # as a running rebuild holds
        with pytest.raises(RebuildError, match="another rebuild, or a verify, is running"):
            await rebuild_now(scratch_url)
        with pytest.raises(VerifyError, match="a rebuild is running"):
            await verify_now(scratch_url)
    finally:
        await other.close()


async def test_a_rebuild_is_refused_while_a_verify_runs_but_verifies_run_side_by_side(
    scratch_url: str,
) -> None:
    other = await asyncpg.connect(scratch_url)
    try:
        await other.execute(
            "SELECT pg_advisory_lock_shared(tasks_lock_key('rebuild'))"
        )  # as a verify holds
        with pytest.raises(RebuildError, match="is running"):
            await rebuild_now(scratch_url)
        assert (await verify_now(scratch_url)).differences == []
    finally:
        await other.close()


async def test_the_swap_is_refused_while_the_read_table_has_an_index_the_fresh_one_lacks(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=100)
    before = await read_table(scratch_url)
    conn = await asyncpg.connect(scratch_url)
    try:
        await conn.execute("CREATE INDEX tasks_title_idx ON tasks (title)")
        with pytest.raises(RebuildError, match=r"read table \(CREATE INDEX .*\(title\)\).* differ"):
            await rebuild_now(scratch_url)
        assert await conn.fetchval("SELECT to_regclass('tasks_title_idx')") is not None
        await conn.execute("DROP INDEX tasks_title_idx")
    finally:
        await conn.close()
    done = await rebuild_now(scratch_url)
    assert done.resumed
    assert await read_table(scratch_url) == before


async def test_a_view_over_the_read_table_stops_the_swap_with_a_message_and_a_resumable_rebuild(
    scratch_url: str,
) -> None:
    await fill_log(scratch_url, tasks=50)
    before = await read_table(scratch_url)
    conn = await asyncpg.connect(scratch_url)
    try:
        await conn.execute("CREATE VIEW open_tasks AS SELECT * FROM tasks WHERE NOT completed")
        with pytest.raises(
            RebuildError, match=r"view open_tasks depends on table tasks.*drop what depends"
        ):
            await rebuild_now(scratch_url)
        assert await read_table(scratch_url) == before  # the swap rolled back whole
        await conn.execute("DROP VIEW open_tasks")
    finally:
        await conn.close()
    assert (await rebuild_now(scratch_url)).resumed
    assert await read_table(scratch_url) == before
