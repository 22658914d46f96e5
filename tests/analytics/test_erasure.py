"""Erasure on request, end to end: through the HTTP API, `tasks users erase`, and the log."""

import asyncio
import os
import subprocess
import sys
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.analytics.erasure import UnknownUser, erase_user
from app.storage import event_store
from app.storage.tasks import get_task
from events.evolve import fold
from events.types import ERASED, RecordedEvent, TaskCreated, UserErased, event_data, user_stream_id
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer

SECRETS = ("Divorce papers", "Call the lawyer", "Lawyer Jane, 555-0100", "Bank PIN 1234")


async def history_of_a_user(client: AsyncTestClient, user: str) -> list[str]:
    """Three tasks: one updated and completed, one deleted, one untouched. Returns task ids."""
    made = []
    for title in SECRETS[:3]:
        r = await client.post(f"/api/{user}/tasks", json={"title": title, "description": "x"})
        assert r.status_code == 201
        made.append(r.json()["id"])
    r = await client.put(
        f"/api/{user}/tasks/{made[0]}", json={"title": SECRETS[3], "description": SECRETS[2]}
    )
    assert r.status_code == 200
    assert (await client.patch(f"/api/{user}/tasks/{made[0]}/complete")).status_code == 200
    assert (await client.delete(f"/api/{user}/tasks/{made[1]}")).status_code == 204
    return made


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "DATABASE_URL": url, "TASKS_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def log_of(pool: asyncpg.Pool, user: str) -> list[RecordedEvent]:
    """The user's log, every acknowledged command's events in it (as a feed request reads)."""
    async with pool.acquire() as conn:
        await event_store.sequence(conn)
        return await event_store.read_feed(conn, after=0, limit=1000, user_id=user)


@pytest.mark.slow
async def test_erasing_a_user_removes_their_personal_data_and_keeps_the_shape_of_the_log(
    client: AsyncTestClient, pool: asyncpg.Pool, migrated_url: str
) -> None:
    user, bystander = random_user(), random_user()
    task_ids = await history_of_a_user(client, user)
    await history_of_a_user(client, bystander)
    before = await log_of(pool, user)

    done = await asyncio.to_thread(
        run_cli, migrated_url, "users", "erase", user, "--yes", "--by", "dpo@example.com"
    )
    assert done.returncode == 0, done.stderr
    assert "6 event(s) and 2 task(s) redacted" in done.stdout

    after = await log_of(pool, user)
    # The old events keep position, stream, version, type and time; two TaskErased (one per
    # live task) and one UserErased follow them.
    shape = [(e.position, e.stream_id, e.version, e.type, e.recorded_at) for e in before]
    assert [(e.position, e.stream_id, e.version, e.type, e.recorded_at) for e in after[:6]] == shape
    assert [e.type for e in after[6:]] == ["TaskErased", "TaskErased", "UserErased"]
    assert all(e.position > before[-1].position for e in after[6:])
    # No title, description or actor of the user is left in the log or the read table.
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        dumped = await conn.fetchval(
            "SELECT string_agg(data::text || metadata::text, ' ') FROM events WHERE user_id = $1",
            user,
        )
        rows = await conn.fetch("SELECT title, description FROM tasks WHERE user_id = $1", user)
    for secret in SECRETS:
        assert secret not in dumped
    assert {(r["title"], r["description"]) for r in rows} == {(ERASED, None)}
    assert all(e.metadata.get("actor") == ERASED for e in after[:6])
    # The erasure is an event of its own: who, how much, in the user's own stream.
    record = after[-1]
    assert record.event == UserErased(
        erased_by="dpo@example.com", events_redacted=6, tasks_redacted=2
    )
    assert (
        record.stream_id == user_stream_id(user) and record.metadata["actor"] == "dpo@example.com"
    )
    # Folding the log gives the read table, stream by stream; the user's stream folds to no task.
    async with pool.acquire() as conn:
        for task_id in task_ids:
            folded = fold(await event_store.read_stream(conn, user, UUID(task_id)))
            assert folded is not None
            row = await get_task(conn, user, UUID(task_id))
            assert (None if folded.deleted else folded) == row
        assert fold(await event_store.read_stream(conn, user, user_stream_id(user))) is None
    # Someone else's data is untouched.
    assert SECRETS[3] in [
        e.event.title for e in await log_of(pool, bystander) if e.type == "TaskUpdated"
    ]  # type: ignore[union-attr]


async def test_the_api_serves_erased_tasks_and_accepts_new_changes(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task_ids = await history_of_a_user(client, user)
    async with pool.acquire() as conn:
        await erase_user(conn, user, "dpo")
    listed = (await client.get(f"/api/{user}/tasks")).json()
    assert [(t["title"], t["description"]) for t in listed] == [(ERASED, None), (ERASED, None)]
    r = await client.get(f"/api/{user}/tasks/{task_ids[0]}")
    assert r.json()["completed"] is True and r.headers["etag"] == '"4"'
    r = await client.put(
        f"/api/{user}/tasks/{task_ids[0]}", json={"title": "New"}, headers={"If-Match": '"4"'}
    )
    assert r.status_code == 200 and r.json()["title"] == "New" and r.json()["version"] == 5


async def test_a_writer_that_read_the_task_before_the_erasure_cannot_write_the_old_title_back(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    task_ids = await history_of_a_user(client, user)
    async with pool.acquire() as conn:
        stale = await get_task(conn, user, UUID(task_ids[2]))
        assert stale is not None
        await erase_user(conn, user, "dpo")
        with pytest.raises(event_store.VersionConflict):
            await event_store.append(
                conn,
                state=stale,
                expected_version=stale.version,
                events=[TaskCreated(title="ignored")],
                metadata={},
                recorded_at=stale.updated_at,
            )
        row = await get_task(conn, user, UUID(task_ids[2]))
    assert row is not None and row.title == ERASED


async def test_erasing_again_redacts_nothing_more_and_is_recorded_again(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    await history_of_a_user(client, user)
    async with pool.acquire() as conn:
        first = await erase_user(conn, user, "dpo")
        second = await erase_user(conn, user, "dpo")
    assert (first.events_redacted, first.tasks_redacted) == (6, 2)
    assert (second.events_redacted, second.tasks_redacted) == (0, 0)
    records = [e for e in await log_of(pool, user) if e.type == "UserErased"]
    assert [(e.version, e.position) for e in records] == [(1, first.position), (2, second.position)]


async def test_erasing_a_user_without_events_changes_nothing(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        with pytest.raises(UnknownUser):
            await erase_user(conn, user, "dpo")
    assert await log_of(pool, user) == []


def test_the_command_refuses_to_erase_without_confirmation_when_not_interactive(
    migrated_url: str,
) -> None:
    done = run_cli(migrated_url, "users", "erase", random_user())
    assert done.returncode == 2 and "--yes" in done.stderr
    blank = run_cli(migrated_url, "users", "erase", random_user(), "--yes", "--by", " ")
    assert blank.returncode == 2 and "who erases" in blank.stderr


async def test_sql_and_python_agree_on_a_users_stream_id(pool: asyncpg.Pool) -> None:
    users = ["alice", "bob@example.com", random_user(), "ü-ñ"]
    async with pool.acquire() as conn:
        in_sql = [await conn.fetchval("SELECT user_stream_id($1)", u) for u in users]
    assert in_sql == [user_stream_id(u) for u in users]


@pytest.mark.slow
async def test_an_erasure_amid_concurrent_writers_leaves_no_old_title_and_log_equal_to_table(
    live_server: LiveServer, pool: asyncpg.Pool
) -> None:
    """Real concurrency (a served app): writers rename a user's tasks while the user is erased.
    None fails; nothing written before the erasure keeps a title; the log folds to the table."""
    user = random_user()
    halfway, erasing = asyncio.Event(), asyncio.Event()
    statuses: list[int] = []
    async with live_server.client(timeout=30) as http:
        task_ids = [
            (await http.post(f"/api/{user}/tasks", json={"title": "secret-0"})).json()["id"]
            for _ in range(4)
        ]

        async def rename_again_and_again(task_id: str) -> None:
            for n in range(1, 31):
                # A toggle writes back the title it read: the race erasure must not lose.
                # Renames stop once the erasure starts, so none can cover up a lost race.
                if not erasing.is_set():
                    r = await http.put(
                        f"/api/{user}/tasks/{task_id}", json={"title": f"secret-{n}"}
                    )
                    statuses.append(r.status_code)
                r = await http.patch(f"/api/{user}/tasks/{task_id}/complete")
                statuses.append(r.status_code)
                if len(statuses) >= 40:
                    halfway.set()

        async def erase_halfway() -> None:
            await halfway.wait()
            erasing.set()
            async with pool.acquire() as conn:
                await erase_user(conn, user, "dpo")

        await asyncio.gather(*(rename_again_and_again(t) for t in task_ids), erase_halfway())
    assert set(statuses) == {200}
    log = await log_of(pool, user)
    erased_at = next(e.position for e in log if e.type == "UserErased")
    before = [e for e in log if e.position < erased_at]
    renamed_before = sum(e.type == "TaskUpdated" for e in before)
    assert renamed_before >= 10 and log[-1].position > erased_at  # it landed amid the writers
    assert not [e for e in before if "secret" in str(event_data(e.event))]
    async with pool.acquire() as conn:
        for task_id in task_ids:
            folded = fold(await event_store.read_stream(conn, user, UUID(task_id)))
            assert folded == await get_task(conn, user, UUID(task_id))


async def test_erasure_forgets_the_users_idempotency_records_which_quote_their_titles(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user, bystander = random_user(), random_user()
    for who in (user, bystander):
        response = await client.post(
            f"/api/{who}/tasks", json={"title": SECRETS[0]}, headers={"Idempotency-Key": "k1"}
        )
        assert response.status_code == 201
    async with pool.acquire() as conn:
        await erase_user(conn, user, "dpo")
        kept = await conn.fetch(
            "SELECT user_id, body FROM idempotency_keys WHERE user_id = ANY($1::text[])",
            [user, bystander],
        )
    assert [r["user_id"] for r in kept] == [bystander]
    assert SECRETS[0].encode() in kept[0]["body"]


async def test_the_users_own_stream_is_no_task_for_time_travel(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    await history_of_a_user(client, user)
    async with pool.acquire() as conn:
        await erase_user(conn, user, "dpo")
    feed = (await client.get(f"/api/{user}/events?limit=1000")).json()["events"]
    own = next(e["stream_id"] for e in feed if e["type"] == "UserErased")
    for query in ("version=1", "as_of=2100-01-01T00:00:00Z"):
        response = await client.get(f"/api/{user}/tasks/{own}?{query}")
        assert response.status_code == 404, response.text


async def test_an_erasure_waits_for_a_command_holding_its_tasks_row_lock(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    """The write path's contended fallback holds the task's row lock (FOR UPDATE) and then
    writes; an erasure must wait for it, not deadlock with it."""
    user = random_user()
    task_ids = await history_of_a_user(client, user)
    async with pool.acquire() as writer, pool.acquire() as eraser:
        transaction = writer.transaction()
        await transaction.start()
        await writer.execute(
            "SELECT 1 FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE", user, UUID(task_ids[0])
        )
        erasure = asyncio.create_task(erase_user(eraser, user, "dpo"))
        await asyncio.sleep(0.2)  # let the erasure queue for its lock
        await writer.execute(
            "UPDATE tasks SET title = 'written under the row lock' WHERE user_id = $1 AND id = $2",
            user,
            UUID(task_ids[0]),
        )
        await transaction.commit()
        done = await erasure
    assert done.tasks_redacted >= 1
    async with pool.acquire() as conn:
        titles = {
            r["title"] for r in await conn.fetch("SELECT title FROM tasks WHERE user_id = $1", user)
        }
    assert titles == {ERASED}
