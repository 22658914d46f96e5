"""The event store: append to a stream with an expected version, read a stream, read the feed."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from events.state import Task
from events.types import SCHEMA_VERSIONS, AnyTaskEvent, RecordedEvent, event_data
from events.upcast import upcast
from sql import queries

_SQL = queries("store")


class VersionConflict(Exception):
    """Another writer appended to the stream since its state was read."""


class KeyAlreadyUsed(Exception):
    """The command's idempotency key is already recorded (and fresh): replay, do not redo."""


# The constraint remember_idempotency_key names when a fresh key exists (sql/0030).
KEY_CONSTRAINT = "idempotency_keys_pkey"


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What to record with a command sent with an idempotency key: the response its retries
    get back, and the hash of the request a retry must match."""

    key: str
    request_hash: bytes
    status: int
    headers: dict[str, str]
    body: bytes
    ttl_seconds: float

    def params(self) -> tuple[Any, ...]:
        """The trailing parameters of append_task_events and remember_idempotency_key."""
        return (
            self.key,
            self.request_hash,
            self.status,
            self.headers,
            self.body,
            self.ttl_seconds,
        )


_NO_RECEIPT = (None,) * 6


async def append(
    conn: asyncpg.Connection,
    *,
    state: Task,
    expected_version: int,
    events: Sequence[AnyTaskEvent],
    metadata: dict[str, Any],
    recorded_at: datetime,
    receipt: Receipt | None = None,
) -> int:
    """Append events after expected_version and write the stream's new read row, atomically,
    with the receipt of an idempotent command if there is one.

    `state` is the task after the events (deleted or not), as the projector folded it.
    Returns the position of the last event appended.
    """
    types = [type(e).__name__ for e in events]
    try:
        position: int = await conn.fetchval(
            _SQL["append"],
            state.user_id,
            state.id,
            expected_version,
            types,
            [event_data(e) for e in events],
            [{**metadata, "schema_version": SCHEMA_VERSIONS[t]} for t in types],
            recorded_at,
            state.title,
            state.description,
            state.completed,
            state.created_at,
            state.deleted,
            *(receipt.params() if receipt else _NO_RECEIPT),
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == KEY_CONSTRAINT:
            raise KeyAlreadyUsed() from exc
        raise VersionConflict(str(state.id)) from exc
    except asyncpg.SerializationError as exc:
        raise VersionConflict(str(state.id)) from exc
    return position


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
    """Every event of one task's stream, in version order (empty if the user has no such stream)."""
    return [_recorded(r) for r in await conn.fetch(_SQL["read_stream"], user_id, stream_id)]


async def read_feed(
    conn: asyncpg.Connection,
    *,
    after: int,
    limit: int,
    user_id: str | None = None,
    type_name: str | None = None,
) -> list[RecordedEvent]:
    """Events after a position, in log order: every user's or one user's, of any type or one.

    Appends take a global lock held to commit, so positions become visible in order and
    `after` (the last position a reader saw) never skips an event committed later.
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
