"""Moving in: the CRUD service's tasks table (its own schema, in a database of its own) comes
into the log as TaskImported events, with its ids, fields and times; reruns add nothing."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from app.runtime.db import init_connection
from app.storage import event_store
from app.storage.crud_import import (
    Outcome,
    SourceError,
    check_source,
    import_all,
    quoted_table,
)
from app.storage.tasks import get_task
from events.evolve import evolve, fold
from events.state import Task
from events.types import AnyTaskEvent, RecordedEvent, TaskDeleted, TaskImported, TaskUpdated
from tests.support.crud import OldTask, as_read_row, create_source, drop_source, insert, old_tasks
from tests.support.random_refs import random_user
from tests.support.replay import Interrupt, Interrupted, NoProgress

META = {"actor": "import-crud", "request_id": "import-test", "schema_version": 1}


@pytest.fixture
async def source(database_url: str) -> AsyncIterator[str]:
    url = await create_source(database_url)
    yield url
    await drop_source(database_url, url)


async def run(
    source: str, target: str, *, batch: int = 4, dry: bool = False, progress: Any = None
) -> Outcome:
    src = await asyncpg.connect(source)
    dst = await asyncpg.connect(target)
    await init_connection(dst)
    progress = progress or NoProgress()
    try:
        progress.grow(await check_source(src, quoted_table("tasks")))
        return await import_all(
            src,
            dst,
            quoted_table("tasks"),
            progress,
            metadata=META,
            batch_size=batch,
            dry_run=dry,
        )
    finally:
        await src.close()
        await dst.close()


async def read_rows(pool: asyncpg.Pool, *users: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, user_id, title, description, completed, created_at, updated_at, version"
        " FROM tasks WHERE user_id = ANY($1) ORDER BY id",
        list(users),
    )
    return [dict(r) for r in rows]


async def events_of(pool: asyncpg.Pool, *users: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        await event_store.sequence(conn)
        return await conn.fetch(
            "SELECT * FROM events WHERE user_id = ANY($1) ORDER BY position", list(users)
        )


async def test_every_task_comes_in_with_its_id_fields_and_original_times(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    alice, bob = random_user(), random_user()
    old = old_tasks(alice, 7) + old_tasks(bob, 3)
    await insert(source, old)
    done = await run(source, migrated_url)
    assert (done.imported, done.existing, done.conflicts, done.refused) == (10, 0, [], [])
    expected = sorted((as_read_row(t) for t in old), key=lambda r: r["id"])
    assert await read_rows(pool, alice, bob) == expected


async def test_the_log_says_the_tasks_were_imported_with_their_old_fields_and_times(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    user = random_user()
    old = old_tasks(user, 3)
    await insert(source, old)
    await run(source, migrated_url)
    log = await events_of(pool, user)
    assert {(e["type"], e["version"], e["metadata"]["actor"]) for e in log} == {
        ("TaskImported", 1, "import-crud")
    }
    async with pool.acquire() as conn:
        streams = {t.id: await event_store.read_stream(conn, user, t.id) for t in old}
    for task in old:
        (recorded,) = streams[task.id]
        assert recorded.event == TaskImported(
            title=task.title.strip(),
            description=task.description,
            completed=task.completed,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )
        # When the log learnt of it is the import's time, not the task's.
        assert recorded.recorded_at > task.updated_at
        # The fold (rebuild, verify, time travel) gives the row the import wrote.
        folded = fold(streams[task.id])
        assert folded is not None
        assert as_read_row(task) == {k: getattr(folded, k) for k in as_read_row(task)}


async def test_a_second_run_adds_nothing_and_counts_what_is_already_here(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    user = random_user()
    await insert(source, old_tasks(user, 9))
    await run(source, migrated_url)
    before = await events_of(pool, user)
    again = await run(source, migrated_url)
    assert (again.imported, again.existing) == (0, 9)
    assert await events_of(pool, user) == before


async def test_a_task_changed_or_deleted_since_its_import_is_never_overwritten_or_revived(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    user = random_user()
    kept, gone = old_tasks(user, 2)
    await insert(source, [kept, gone])
    await run(source, migrated_url)
    async with pool.acquire() as conn:
        for task, event in ((kept, TaskUpdated(title="renamed here")), (gone, TaskDeleted())):
            state = await get_task(conn, user, task.id)
            assert state is not None
            await event_store.append(
                conn,
                state=evolve(state, recorded_after(state, event)),
                expected_version=1,
                events=[event],
                metadata={},
                recorded_at=datetime.now(UTC),
            )
    again = await run(source, migrated_url)
    assert (again.imported, again.existing) == (0, 2)
    assert [(r["id"], r["title"]) for r in await read_rows(pool, user)] == [
        (kept.id, "renamed here")
    ]


def recorded_after(state: Task, event: AnyTaskEvent) -> RecordedEvent:
    return RecordedEvent(
        position=0,
        stream_id=state.id,
        version=state.version + 1,
        user_id=state.user_id,
        event=event,
        metadata={},
        recorded_at=datetime.now(UTC),
    )


async def test_a_stopped_run_keeps_its_committed_batches_and_the_next_run_finishes(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    user = random_user()
    old = old_tasks(user, 10)
    await insert(source, old)
    with pytest.raises(Interrupted):
        await run(source, migrated_url, batch=4, progress=Interrupt(after_events=3))
    assert len(await read_rows(pool, user)) == 4
    rest = await run(source, migrated_url, batch=4)
    assert (rest.imported, rest.existing) == (6, 4)
    assert len(await events_of(pool, user)) == 10
    assert [r["id"] for r in await read_rows(pool, user)] == sorted(t.id for t in old)


async def test_a_dry_run_counts_and_writes_nothing(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    user = random_user()
    old = old_tasks(user, 5)
    await insert(source, old[:2])
    await run(source, migrated_url)
    await insert(source, old[2:])
    dry = await run(source, migrated_url, dry=True)
    assert (dry.imported, dry.existing) == (3, 2)
    assert len(await read_rows(pool, user)) == 2
    assert len(await events_of(pool, user)) == 2
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM pending_events WHERE user_id = $1", user) == 0
        )


async def test_an_id_another_user_holds_here_is_a_conflict_and_is_not_imported(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    alice, mallory = random_user(), random_user()
    mine = old_tasks(alice, 3)
    await insert(source, mine)
    await run(source, migrated_url)
    # The old table, changed since: one of alice's ids now under mallory's name.
    taken = OldTask(*mine[0])._replace(user_id=mallory, title="not alice's")
    src = await asyncpg.connect(source)
    await src.execute(
        "UPDATE tasks SET user_id = $1, title = $2 WHERE id = $3", mallory, taken.title, taken.id
    )
    await src.close()
    done = await run(source, migrated_url)
    assert (done.imported, done.existing) == (0, 2)
    assert done.conflicts == [f"{taken.id} (user {mallory!r}): the id is already user {alice!r}'s"]
    assert await read_rows(pool, mallory) == []
    assert (await read_rows(pool, alice))[0]["title"] in {t.title.strip() for t in mine}


async def test_rows_the_service_could_not_serve_are_refused_and_named(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    good, bad = old_tasks("alice-" + random_user(), 1), old_tasks("has space", 1)
    blank = old_tasks(good[0].user_id, 1)[0]._replace(title="   ")
    await insert(source, [*good, *bad, blank])
    done = await run(source, migrated_url)
    assert done.imported == 1
    assert sorted(done.refused) == sorted(
        [
            f"{bad[0].id} (user 'has space'): user_id must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -",
            f"{blank.id} (user {blank.user_id!r}): title must be 1 to 200 characters once trimmed",
        ]
    )
    assert [r["id"] for r in await read_rows(pool, good[0].user_id)] == [good[0].id]


async def test_titles_come_in_trimmed_as_a_command_would_store_them(
    source: str, migrated_url: str, pool: asyncpg.Pool
) -> None:
    user = random_user()
    padded = old_tasks(user, 1)[0]._replace(title="  Buy milk  ")
    await insert(source, [padded])
    assert (await run(source, migrated_url)).imported == 1
    assert [r["title"] for r in await read_rows(pool, user)] == ["Buy milk"]
    async with pool.acquire() as conn:
        await event_store.sequence(conn)
        stream = await event_store.read_stream(conn, user, padded.id)
    assert [e.event.title for e in stream if isinstance(e.event, TaskImported)] == ["Buy milk"]


def test_a_table_name_is_checked_and_quoted_never_passed_on_as_typed() -> None:
    assert quoted_table("tasks") == '"tasks"'
    assert quoted_table("old.tasks") == '"old"."tasks"'
    for name in ("tasks; DROP TABLE events", 'ta"sks', "a.b.c", ""):
        with pytest.raises(SourceError):
            quoted_table(name)


async def test_a_missing_table_or_column_is_one_clear_error(source: str, migrated_url: str) -> None:
    src = await asyncpg.connect(source)
    await src.execute("ALTER TABLE tasks DROP COLUMN completed")
    await src.close()
    with pytest.raises(SourceError, match='the source table "tasks" has no column completed'):
        await run(source, migrated_url)
    src = await asyncpg.connect(source)
    await src.execute("DROP TABLE tasks")
    await src.close()
    with pytest.raises(SourceError, match='the source database has no table "tasks"'):
        await run(source, migrated_url)
