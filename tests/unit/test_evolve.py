"""evolve: given a task's events, the state they fold into."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from events.evolve import fold
from events.types import (
    AnyTaskEvent,
    RecordedEvent,
    TaskCreated,
    TaskDeleted,
    TaskImported,
    TaskToggled,
    TaskUpdated,
    event_data,
    event_from_row,
)

T0 = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def recorded(stream: UUID, *events: AnyTaskEvent) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            position=100 + n,
            stream_id=stream,
            version=n,
            user_id="alice",
            event=e,
            metadata={},
            recorded_at=T0 + timedelta(seconds=n),
        )
        for n, e in enumerate(events, start=1)
    ]


def test_a_created_task_has_its_title_version_one_and_equal_times() -> None:
    stream = uuid4()
    task = fold(recorded(stream, TaskCreated(title="Buy milk")))
    assert task is not None
    assert (task.id, task.user_id, task.title, task.completed, task.version) == (
        stream,
        "alice",
        "Buy milk",
        False,
        1,
    )
    assert task.created_at == task.updated_at == T0 + timedelta(seconds=1)


def test_updates_and_toggles_change_their_fields_the_version_and_the_update_time() -> None:
    events = recorded(
        uuid4(),
        TaskCreated(title="Buy milk", description="2 l"),
        TaskUpdated(title="Buy oat milk"),
        TaskToggled(completed=True),
        TaskUpdated(description=None),
    )
    task = fold(events)
    assert task is not None
    assert (task.title, task.description, task.completed, task.version) == (
        "Buy oat milk",
        None,
        True,
        4,
    )
    assert task.created_at == T0 + timedelta(seconds=1)
    assert task.updated_at == T0 + timedelta(seconds=4)


def test_a_deleted_task_is_marked_deleted_and_keeps_its_last_fields() -> None:
    task = fold(recorded(uuid4(), TaskCreated(title="x"), TaskDeleted()))
    assert task is not None
    assert task.deleted and task.title == "x" and task.version == 2


def test_an_event_before_creation_is_an_error() -> None:
    with pytest.raises(ValueError, match="before TaskCreated"):
        fold(recorded(uuid4(), TaskToggled(completed=True)))


@pytest.mark.parametrize(
    "event",
    [
        TaskCreated(title="t", description=None),
        TaskUpdated(title="t"),
        TaskUpdated(description=None),
        TaskToggled(completed=True),
        TaskDeleted(),
    ],
)
def test_every_event_survives_its_stored_form(event: AnyTaskEvent) -> None:
    assert event_from_row(type(event).__name__, event_data(event)) == event


def test_stored_data_holds_only_the_changed_fields_of_an_update() -> None:
    assert event_data(TaskUpdated(description=None)) == {"description": None}
    assert event_data(TaskCreated(title="t")) == {
        "title": "t",
        "description": None,
        "completed": False,
    }


def test_an_imported_task_keeps_the_old_services_times_and_fields() -> None:
    stream, born = uuid4(), datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    imported = TaskImported(
        title=" Old ", description="d", completed=True, created_at=born, updated_at=born
    )
    task = fold(recorded(stream, imported))
    assert task is not None
    assert (task.title, task.description, task.completed, task.version) == (" Old ", "d", True, 1)
    assert (task.created_at, task.updated_at) == (born, born)
    later = fold(recorded(stream, imported, TaskToggled(completed=False)))
    assert later is not None
    assert (later.completed, later.created_at, later.updated_at) == (
        False,
        born,
        T0 + timedelta(seconds=2),
    )
    # Its data round-trips through the log's JSON.
    assert event_from_row("TaskImported", event_data(imported)) == imported
