"""Idempotency records against a real PostgreSQL: written with the events, or not at all."""

import asyncpg
import pytest

from app.storage import event_store
from app.storage.idempotency_keys import IdempotencyRecord, KeyAlreadyUsed
from events.types import TaskCreated
from tests.support.random_refs import random_user
from tests.support.seed import new_task


def record(key: str, body: bytes = b"{}") -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        request_hash=b"h",
        status=201,
        headers={"ETag": '"1"'},
        body=body,
        ttl_seconds=3600,
    )


async def test_an_append_whose_key_is_taken_rolls_back_its_events_and_row(
    pool: asyncpg.Pool,
) -> None:
    user = random_user()
    first, second = new_task(user), new_task(user)
    async with pool.acquire() as conn:
        for task in (first, second):
            append = event_store.append(
                conn,
                state=task,
                expected_version=0,
                events=[TaskCreated(title=task.title)],
                metadata={},
                recorded_at=task.created_at,
                record=record("same", body=str(task.id).encode()),
            )
            if task is first:
                await append
            else:
                with pytest.raises(KeyAlreadyUsed):
                    await append
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        streams = await conn.fetch("SELECT DISTINCT stream_id FROM events WHERE user_id = $1", user)
        rows = await conn.fetch("SELECT id FROM tasks WHERE user_id = $1", user)
        kept = await conn.fetchrow("SELECT * FROM idempotency_keys WHERE user_id = $1", user)
    assert [r["stream_id"] for r in streams] == [r["id"] for r in rows] == [first.id]
    assert (kept["key"], kept["status"], kept["headers"], kept["body"]) == (
        "same",
        201,
        {"ETag": '"1"'},
        str(first.id).encode(),
    )


async def test_a_rejected_append_records_no_key(pool: asyncpg.Pool) -> None:
    task = new_task(random_user())
    async with pool.acquire() as conn:
        with pytest.raises(event_store.VersionConflict):
            await event_store.append(
                conn,
                state=task,
                expected_version=3,
                events=[TaskCreated(title="x")],
                metadata={},
                recorded_at=task.created_at,
                record=record("k"),
            )
        kept = await conn.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE user_id = $1", task.user_id
        )
    assert kept == 0
