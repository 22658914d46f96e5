"""evolve and the erasure events: TaskErased redacts a task, UserErased is no task's event."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from events.evolve import fold
from events.types import (
    ERASED,
    AnyTaskEvent,
    RecordedEvent,
    TaskCreated,
    TaskDeleted,
    TaskErased,
    UserErased,
    event_data,
    event_from_row,
    user_stream_id,
)

T0 = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def recorded(*events: AnyTaskEvent, stream: object = None) -> list[RecordedEvent]:
    stream_id = stream or uuid4()
    return [
        RecordedEvent(
            position=n,
            stream_id=stream_id,  # type: ignore[arg-type]
            version=n,
            user_id="alice",
            event=e,
            metadata={},
            recorded_at=T0 + timedelta(seconds=n),
        )
        for n, e in enumerate(events, start=1)
    ]


def test_a_task_erased_event_blanks_title_and_description_and_moves_the_version() -> None:
    task = fold(recorded(TaskCreated(title="Call Jane", description="555-0100"), TaskErased()))
    assert task is not None
    assert (task.title, task.description, task.version) == (ERASED, None, 2)
    assert task.updated_at == T0 + timedelta(seconds=2) and not task.deleted


def test_a_deleted_task_stays_deleted_when_erased() -> None:
    task = fold(recorded(TaskCreated(title="x"), TaskDeleted(), TaskErased()))
    assert task is not None and task.deleted and task.title == ERASED


def test_the_user_stream_folds_to_no_task() -> None:
    record = UserErased(erased_by="dpo", events_redacted=3, tasks_redacted=1)
    assert fold(recorded(record, record, stream=user_stream_id("alice"))) is None


def test_a_user_erased_event_leaves_a_task_as_it_was() -> None:
    (created,) = recorded(TaskCreated(title="x"))
    task = fold([created])
    stray = recorded(UserErased(erased_by="dpo", events_redacted=0, tasks_redacted=0))[0]
    assert fold([stray], task) == task


@pytest.mark.parametrize(
    "event", [TaskErased(), UserErased(erased_by="dpo", events_redacted=2, tasks_redacted=1)]
)
def test_the_erasure_events_survive_their_stored_form(event: AnyTaskEvent) -> None:
    assert event_from_row(type(event).__name__, event_data(event)) == event


def test_each_user_has_a_stream_of_their_own_apart_from_task_ids() -> None:
    assert user_stream_id("alice") == user_stream_id("alice") != user_stream_id("bob")
    assert user_stream_id("alice").version == 3
