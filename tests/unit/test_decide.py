"""decide: given a task's state, when a command, then these events (or this refusal)."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from msgspec import structs

from events.commands import CreateTask, DeleteTask, ToggleTask, UpdateTask
from events.decide import StaleVersion, TaskAlreadyExists, TaskNotFound, decide
from events.state import Task
from events.types import TaskCreated, TaskDeleted, TaskToggled, TaskUpdated
from tests.support.seed import new_task

AT = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def a_task(**changes: object) -> Task:
    return structs.replace(new_task("alice", "Buy milk", AT), **changes)


def test_creating_a_new_task_records_its_title_and_description_uncompleted() -> None:
    command = CreateTask(task_id=uuid4(), user_id="alice", title="Buy milk", description="2 l")
    assert decide(None, command) == [
        TaskCreated(title="Buy milk", description="2 l", completed=False)
    ]


def test_creating_a_task_that_exists_is_refused() -> None:
    with pytest.raises(TaskAlreadyExists):
        decide(a_task(), CreateTask(task_id=uuid4(), user_id="alice", title="x"))


def test_an_update_records_only_the_fields_that_change() -> None:
    events = decide(a_task(), UpdateTask(title="Buy oat milk", description=None))
    assert events == [TaskUpdated(title="Buy oat milk")]


def test_an_update_that_changes_nothing_records_nothing() -> None:
    assert decide(a_task(), UpdateTask(title="Buy milk", description=None, completed=False)) == []


def test_an_update_of_completion_records_a_toggle_after_the_field_update() -> None:
    events = decide(a_task(), UpdateTask(description="soon", completed=True))
    assert events == [TaskUpdated(description="soon"), TaskToggled(completed=True)]


def test_clearing_a_description_is_a_change() -> None:
    assert decide(a_task(description="x"), UpdateTask(description=None)) == [
        TaskUpdated(description=None)
    ]


def test_toggling_flips_completion_both_ways() -> None:
    assert decide(a_task(), ToggleTask()) == [TaskToggled(completed=True)]
    assert decide(a_task(completed=True), ToggleTask()) == [TaskToggled(completed=False)]


def test_deleting_records_a_deletion() -> None:
    assert decide(a_task(), DeleteTask()) == [TaskDeleted()]


@pytest.mark.parametrize("command", [UpdateTask(title="x"), ToggleTask(), DeleteTask()])
def test_commands_on_a_missing_or_deleted_task_are_refused(command: object) -> None:
    with pytest.raises(TaskNotFound):
        decide(None, command)  # type: ignore[arg-type]
    with pytest.raises(TaskNotFound):
        decide(a_task(deleted=True), command)  # type: ignore[arg-type]


def test_a_stale_expected_version_is_refused_even_when_nothing_would_change() -> None:
    with pytest.raises(StaleVersion) as refused:
        decide(a_task(version=3), UpdateTask(title="Buy milk", expected_version=2))
    assert (refused.value.expected, refused.value.actual) == (2, 3)


def test_the_current_expected_version_is_accepted() -> None:
    assert decide(a_task(version=3), ToggleTask(expected_version=3)) == [
        TaskToggled(completed=True)
    ]
