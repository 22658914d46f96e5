"""The event store: append to a stream with an expected version, read a stream, read the feed."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.storage.idempotency_keys import IdempotencyRecord, KeyAlreadyUsed, is_key_used
from events.state import Task
from events.types import SCHEMA_VERSIONS, AnyTaskEvent, RecordedEvent, event_data
from events.upcast import upcast
from sql import queries

_SQL = queries("store")


class VersionConflict(Exception):
    """Another writer appended to the stream since its state was read."""


_NO_RECORD = (None,) * 6


async def append(
    conn: asyncpg.Connection,
    *,
    state: Task,
    expected_version: int,
    events: Sequence[AnyTaskEvent],
    metadata: dict[str, Any],
    recorded_at: datetime,
    record: IdempotencyRecord | None = None,
) -> None:
    """Append events after expected_version and write the stream's new read row, atomically,
    with the idempotency record of the command if it has one.

    `state` is the task after the events (deleted or not), as the projector folded it.
    The events get their positions from the sequencer once this commits (`sequence`).
    """
    types = [type(e).__name__ for e in events]
    try:
        await conn.fetchval(
            _SQL["append"],
            state.user_id,
            state,  # the whole task, as JSON: the read row and whether it is deleted
            expected_version,
            types,
            [event_data(e) for e in events],
            [{**metadata, "schema_version": SCHEMA_VERSIONS[t]} for t in types],
            recorded_at,
            *(record.params() if record else _NO_RECORD),
        )
    except asyncpg.UniqueViolationError as exc:
        if is_key_used(exc):
            raise KeyAlreadyUsed() from exc
        raise VersionConflict(str(state.id)) from exc
    except asyncpg.SerializationError as exc:
        raise VersionConflict(str(state.id)) from exc


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=row["position"],
        stream_id=row["stream_id"],
        version=row["version"],
        user_id=row["user_id"],
        event=upcast(row["type"], row["data"], row["metadata"]),
        metadata=row["metadata"],
        recorded_at=row["recorded_at"],
    )


async def read_stream(
    conn: asyncpg.Connection, user_id: str, stream_id: UUID
) -> list[RecordedEvent]:
    """Every sequenced event of one task's stream, in version order (empty if the user has no
    such stream). `sequence` first, to include every event acknowledged so far."""
    return [_recorded(r) for r in await conn.fetch(_SQL["read_stream"], user_id, stream_id)]


async def sequence(conn: asyncpg.Connection, *, wait: bool = True) -> int:
    """Give every committed event its position now; how many got one (-1: another sequencer
    was at work and `wait` was False).

    A read that must include every command acknowledged before it started (the feeds, the
    stream, history, time travel, exports) calls this first. With `wait`, it waits for a
    sequencer at work, then moves whatever that one did not see.
    """
    moved: int = await conn.fetchval(_SQL["sequence"], wait)
    return moved


async def read_feed(
    conn: asyncpg.Connection,
    *,
    after: int,
    limit: int,
    user_id: str | None = None,
    type_name: str | None = None,
) -> list[RecordedEvent]:
    """Events after a position, in log order: every user's or one user's, of any type or one.

    Only the sequencer gives positions, one move at a time, each committed before the next
    starts: positions become visible in ascending order, and `after` (the last position a
    reader saw) never skips an event. `sequence` first, to include recent commands.
    """
    # One query per filter combination, so each keeps a plan that uses its index.
    if user_id is None and type_name is None:
        rows = await conn.fetch(_SQL["read_all"], after, limit)
    elif user_id is None:
        rows = await conn.fetch(_SQL["read_all_of_type"], after, type_name, limit)
    elif type_name is None:
        rows = await conn.fetch(_SQL["read_user"], user_id, after, limit)
    else:
        rows = await conn.fetch(_SQL["read_user_of_type"], user_id, after, type_name, limit)
    return [_recorded(r) for r in rows]


async def head(conn: asyncpg.Connection) -> int:
    """The newest position in the log (0 when it is empty)."""
    position: int = await conn.fetchval(_SQL["head"])
    return position
