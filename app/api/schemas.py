"""Request and response bodies of the REST API (not the event Structs), with the API's limits."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from events.rules import DESCRIPTION_MAX, TITLE_MAX
from events.state import Task
from events.types import RecordedEvent, event_data

# Limits are checked again after trimming (events/rules.py); these bound what is decoded at all.
# The patterns only document those rules (for clients and generated tests): no NUL, and
# for a title 1 to 200 characters between any surrounding white space.
Title = Annotated[
    str,
    Meta(
        max_length=4 * TITLE_MAX,
        description="1 to 200 characters once trimmed",
        extra_json_schema={
            "description": "1 to 200 characters once trimmed",
            "extra": {"pattern": rf"^\s*[^\s\x00]([^\x00]{{0,{TITLE_MAX - 2}}}[^\s\x00])?\s*$"},
        },
    ),
]
Description = Annotated[
    str,
    Meta(
        max_length=DESCRIPTION_MAX,
        description="at most 2,000 characters",
        extra_json_schema={
            "description": "at most 2,000 characters",
            "extra": {"pattern": r"^[^\x00]*$"},
        },
    ),
]


class TaskCreateBody(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    description: Description | None = None


class TaskUpdateBody(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    description: Description | None | UnsetType = UNSET
    completed: bool | UnsetType = UNSET


class TaskOut(msgspec.Struct):
    id: UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: Annotated[str, Meta(description="RFC 3339, UTC, microseconds")]
    updated_at: Annotated[str, Meta(description="RFC 3339, UTC, microseconds")]
    version: int


class EventOut(msgspec.Struct):
    """One event of the log, as the audit endpoints show it."""

    position: int
    stream_id: UUID
    version: int
    user_id: str
    type: str
    data: Annotated[dict[str, Any], Meta(description="the event's fields, in their current shape")]
    metadata: Annotated[dict[str, Any], Meta(description="request_id, actor, schema_version")]
    recorded_at: Annotated[str, Meta(description="RFC 3339, UTC, microseconds")]


class FeedOut(msgspec.Struct):
    events: list[EventOut]
    next: Annotated[int, Meta(description="pass as `after` to continue")]


def rfc3339(at: datetime) -> str:
    """UTC with microseconds always present, as the API promises: 2026-11-26T16:00:00.123456Z.

    isoformat then cutting off the offset (+00:00): strftime took 1.8 us a call, 40 of them
    per page of 20 tasks, a sixth of a list request's server CPU (bench/REPORT.md)."""
    return at.isoformat(timespec="microseconds")[:26] + "Z"


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id,
        user_id=task.user_id,
        title=task.title,
        description=task.description,
        completed=task.completed,
        created_at=rfc3339(task.created_at),
        updated_at=rfc3339(task.updated_at),
        version=task.version,
    )


def event_out(recorded: RecordedEvent) -> EventOut:
    """The event with its data in the current shape (upcast on read); metadata as recorded."""
    return EventOut(
        position=recorded.position,
        stream_id=recorded.stream_id,
        version=recorded.version,
        user_id=recorded.user_id,
        type=recorded.type,
        data=event_data(recorded.event),
        metadata=recorded.metadata,
        recorded_at=rfc3339(recorded.recorded_at),
    )
