"""Running a command: load the task, decide, fold, append and project in one statement."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.storage import event_store
from app.storage.idempotency_keys import IdempotencyRecord, remember
from app.storage.tasks import get_task
from events.commands import Command, CreateTask
from events.decide import StaleVersion, TaskNotFound, decide
from events.evolve import fold
from events.state import Task
from events.types import AnyTaskEvent, RecordedEvent

# Optimistic tries before a command takes the task's row lock and waits its turn.
OPTIMISTIC_ATTEMPTS = 2

# The idempotency record to keep with the command, from the task as the command leaves it.
Records = Callable[[Task], IdempotencyRecord] | None


@dataclass(frozen=True, slots=True)
class Outcome:
    task: Task
    events: list[AnyTaskEvent]


def _as_recorded(
    state: Task | None, user_id: str, task_id: UUID, events: list[AnyTaskEvent], at: datetime
) -> list[RecordedEvent]:
    base = state.version if state else 0
    return [
        RecordedEvent(
            position=0,
            stream_id=task_id,
            version=base + i,
            user_id=user_id,
            event=e,
            metadata={},
            recorded_at=at,
        )
        for i, e in enumerate(events, start=1)
    ]


async def _attempt(
    conn: asyncpg.Connection,
    state: Task | None,
    user_id: str,
    task_id: UUID,
    command: Command,
    metadata: dict[str, Any],
    records: Records,
) -> Outcome:
    events = decide(state, command)
    if not events:
        assert state is not None  # decide only returns nothing for an existing task
        if records:
            await remember(conn, user_id, records(state))
        return Outcome(state, [])
    now = datetime.now(UTC)
    new_state = fold(_as_recorded(state, user_id, task_id, events, now), state)
    assert new_state is not None
    await event_store.append(
        conn,
        state=new_state,
        expected_version=state.version if state else 0,
        events=events,
        metadata=metadata,
        recorded_at=now,
        record=records(new_state) if records else None,
    )
    return Outcome(new_state, events)


async def execute(
    pool: asyncpg.Pool,
    user_id: str,
    task_id: UUID,
    command: Command,
    metadata: dict[str, Any],
    records: Records = None,
) -> Outcome:
    """Run a command against one task; retry on a concurrent writer unless If-Match was given.

    With records, the command's idempotency record is written in the same statement as its
    events; KeyAlreadyUsed means another request with the key got there first.
    """
    if isinstance(command, CreateTask):
        async with pool.acquire() as conn:
            return await _attempt(conn, None, user_id, task_id, command, metadata, records)
    for _ in range(OPTIMISTIC_ATTEMPTS):
        async with pool.acquire() as conn:
            state = await get_task(conn, user_id, task_id)
            try:
                return await _attempt(conn, state, user_id, task_id, command, metadata, records)
            except event_store.VersionConflict:
                if command.expected_version is not None:
                    actual = await get_task(conn, user_id, task_id)
                    if actual is None:  # deleted meanwhile
                        raise TaskNotFound() from None
                    raise StaleVersion(command.expected_version, actual.version) from None
    # Contended: hold the row lock while deciding, so this writer cannot lose again.
    async with pool.acquire() as conn, conn.transaction():
        state = await get_task(conn, user_id, task_id, for_update=True)
        return await _attempt(conn, state, user_id, task_id, command, metadata, records)
