"""The pure fold: what one event does to a task's state."""

from collections.abc import Iterable
from typing import assert_never

from msgspec import UNSET, structs

from events.state import Task
from events.types import (
    ERASED,
    RecordedEvent,
    TaskCreated,
    TaskDeleted,
    TaskErased,
    TaskImported,
    TaskToggled,
    TaskUpdated,
    UserErased,
)


def evolve(state: Task | None, recorded: RecordedEvent) -> Task | None:
    """Apply one recorded event to a task's state (None before its creation).

    TaskCreated and TaskImported begin a task's stream. A UserErased event lives in a
    user's own stream, never a task's: it leaves the state as it is, so that stream folds
    to None (no task, no read row).
    """
    event, at = recorded.event, recorded.recorded_at
    if isinstance(event, TaskCreated):
        return Task(
            id=recorded.stream_id,
            user_id=recorded.user_id,
            title=event.title,
            description=event.description,
            completed=event.completed,
            created_at=at,
            updated_at=at,
            version=recorded.version,
        )
    if isinstance(event, TaskImported):
        # The task as the old service held it, with its own times (not the import's).
        return Task(
            id=recorded.stream_id,
            user_id=recorded.user_id,
            title=event.title,
            description=event.description,
            completed=event.completed,
            created_at=event.created_at,
            updated_at=event.updated_at,
            version=recorded.version,
        )
    if isinstance(event, UserErased):
        return state
    if state is None:
        raise ValueError(f"{recorded.type} at version {recorded.version} before TaskCreated")
    match event:
        case TaskUpdated():
            return structs.replace(
                state,
                title=state.title if event.title is UNSET else event.title,
                description=state.description if event.description is UNSET else event.description,
                updated_at=at,
                version=recorded.version,
            )
        case TaskToggled():
            return structs.replace(
                state, completed=event.completed, updated_at=at, version=recorded.version
            )
        case TaskDeleted():
            return structs.replace(state, deleted=True, updated_at=at, version=recorded.version)
        case TaskErased():
            # Set explicitly, not only through the redacted earlier events: a rebuild that
            # folded the stream before the erasure and catches up afterwards must end redacted.
            return structs.replace(
                state, title=ERASED, description=None, updated_at=at, version=recorded.version
            )
        case _:
            assert_never(event)


def fold(events: Iterable[RecordedEvent], state: Task | None = None) -> Task | None:
    """Fold a stream's events, in version order, into its state."""
    for recorded in events:
        state = evolve(state, recorded)
    return state
