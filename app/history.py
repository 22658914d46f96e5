"""Time travel: a task as it stood at a version or a moment, folded from its events."""

import re
from datetime import UTC, datetime
from itertools import takewhile
from uuid import UUID

import asyncpg
import msgspec

from app.problems import ProblemError, bad_input
from app.schemas import rfc3339
from events import store
from events.decide import TaskNotFound
from events.evolve import fold
from events.state import Task
from events.types import RecordedEvent

_BEYOND_MICROSECONDS = re.compile(r"(\.\d{6})\d+")


def parse_as_of(value: str) -> datetime:
    """An RFC 3339 time with an offset; digits beyond microseconds are cut, never rounded up."""
    try:
        at = msgspec.convert(_BEYOND_MICROSECONDS.sub(r"\1", value.strip()), datetime)
    except msgspec.ValidationError:
        at = None
    if at is not None and at.tzinfo is not None:
        try:
            return at.astimezone(UTC)
        except OverflowError:  # e.g. year 1 with a positive offset
            pass
    raise bad_input(
        "as_of",
        "must be an RFC 3339 time with an offset, such as 2026-11-26T16:00:00.123456Z"
        " (write + as %2B in a URL)",
    )


def _events_until(
    stream: list[RecordedEvent], version: int | None, as_of: datetime | None
) -> list[RecordedEvent]:
    if version is not None:
        if version > len(stream):
            raise ProblemError(
                404, f"The task has versions 1 to {len(stream)}; there is no version {version}."
            )
        return stream[:version]
    assert as_of is not None
    events = list(takewhile(lambda e: e.recorded_at <= as_of, stream))
    if not events:
        raise ProblemError(
            404,
            f"The task did not exist yet at {rfc3339(as_of)};"
            f" it was created at {rfc3339(stream[0].recorded_at)}.",
        )
    return events


async def task_as_it_stood(
    pool: asyncpg.Pool,
    owner: str,
    task_id: UUID,
    *,
    version: int | None,
    as_of: datetime | None,
) -> Task:
    """Fold the task's stream up to a version, or up to the last event recorded by a time."""
    if version is not None and as_of is not None:
        raise bad_input("as_of", "give either version or as_of, not both")
    async with pool.acquire() as conn:
        stream = await store.read_stream(conn, owner, task_id)
    if not stream:
        raise TaskNotFound()
    task = fold(_events_until(stream, version, as_of))
    if task is None:  # a stream that is not a task's: the user's own (UserErased)
        raise TaskNotFound()
    if task.deleted:
        raise ProblemError(
            404,
            f"The task was deleted at version {task.version}; ask for an earlier version.",
        )
    return task
