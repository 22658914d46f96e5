"""Task events (a tagged union, past tense) and the envelope they are recorded in."""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid3

import msgspec
from msgspec import UNSET, UnsetType


class TaskEvent(msgspec.Struct, frozen=True, tag=True, tag_field="type"):
    """Base of every task event. The tag (the class name) is what the `type` column holds.

    Never rename a tag or change a field's type: stored events must keep decoding.
    New fields get defaults; a change of shape bumps SCHEMA_VERSIONS and adds an upcaster.
    """


class TaskCreated(TaskEvent, frozen=True):
    title: str
    description: str | None = None
    completed: bool = False


class TaskImported(TaskEvent, frozen=True):
    """A task brought in whole from the CRUD service this one replaces (`tasks import-crud`).

    It carries the task as the old table held it, its original created_at and updated_at
    included: the read row keeps those times, while the event's recorded_at says truthfully
    when the log learnt of the task. What happened to it before the import is not known.
    """

    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime


class TaskUpdated(TaskEvent, frozen=True, omit_defaults=True):
    title: str | UnsetType = UNSET
    description: str | None | UnsetType = UNSET


class TaskToggled(TaskEvent, frozen=True):
    completed: bool


class TaskDeleted(TaskEvent, frozen=True):
    pass


class TaskErased(TaskEvent, frozen=True):
    """The owner's personal data was erased from this task (see UserErased).

    Appended to every live task of an erased user, so the task's version moves on: a
    writer that read the task before the erasure fails its version check instead of
    writing the old title back. Only the SQL function erase_user appends it.
    """


class UserErased(TaskEvent, frozen=True):
    """A user's personal data was erased from the log and the read table: who did it, how much.

    Recorded in the user's own stream (user_stream_id), not in a task's: it is not a task event,
    and folding that stream gives no task.
    """

    erased_by: str
    events_redacted: int
    tasks_redacted: int


AnyTaskEvent = (
    TaskCreated | TaskImported | TaskUpdated | TaskToggled | TaskDeleted | TaskErased | UserErased
)

EVENT_TYPES: dict[str, type[AnyTaskEvent]] = {
    cls.__name__: cls
    for cls in (
        TaskCreated,
        TaskImported,
        TaskUpdated,
        TaskToggled,
        TaskDeleted,
        TaskErased,
        UserErased,
    )
}

# What erasure writes in place of a title and an actor (descriptions become null).
ERASED = "[erased]"

# Name-based (RFC 4122 version 3) ids of per-user streams; sql/0046_user_stream_id.sql
# computes the same in SQL, where md5 is built in and sha1 (version 5) is not.
USER_STREAM_NAMESPACE = UUID("6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f")


def user_stream_id(user_id: str) -> UUID:
    """The stream that holds events about a user rather than one of their tasks."""
    return uuid3(USER_STREAM_NAMESPACE, user_id)


# The shape version of each event type's data, recorded in every event's metadata.
SCHEMA_VERSIONS: dict[str, int] = dict.fromkeys(EVENT_TYPES, 1)


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as the log holds it: the domain event plus its place in the log."""

    position: int
    stream_id: UUID
    version: int
    user_id: str
    event: AnyTaskEvent
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def type(self) -> str:
        return type(self.event).__name__


def event_data(event: TaskEvent) -> dict[str, Any]:
    """The event's fields as stored in the `data` column (the tag lives in `type`)."""
    data: dict[str, Any] = msgspec.to_builtins(event)
    del data["type"]
    return data


def event_from_row(type_name: str, data: dict[str, Any]) -> AnyTaskEvent:
    """Rebuild a domain event from its stored type and data."""
    try:
        cls = EVENT_TYPES[type_name]
    except KeyError:
        raise ValueError(f"unknown event type {type_name!r}") from None
    return msgspec.convert(data, cls)
