"""The pure decision: given a task's state and a command, which events happen."""

from typing import assert_never

from msgspec import UNSET

from events.commands import Command, CreateTask, DeleteTask, ToggleTask, UpdateTask
from events.state import Task
from events.types import AnyTaskEvent, TaskCreated, TaskDeleted, TaskToggled, TaskUpdated


class DomainError(Exception):
    """A command the task's state does not allow."""


class TaskNotFound(DomainError):
    """The task does not exist, was deleted, or belongs to someone else."""


class TaskAlreadyExists(DomainError):
    """A create for a stream that already has events."""


class StaleVersion(DomainError):
    """The caller's expected version is not the task's version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"the task is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


def decide(state: Task | None, command: Command) -> list[AnyTaskEvent]:
    """Return the events the command causes; raise a DomainError if it may not happen."""
    if isinstance(command, CreateTask):
        if state is not None:
            raise TaskAlreadyExists(str(command.task_id))
        return [TaskCreated(title=command.title, description=command.description)]
    if state is None or state.deleted:
        raise TaskNotFound()
    if command.expected_version is not None and command.expected_version != state.version:
        raise StaleVersion(command.expected_version, state.version)
    match command:
        case UpdateTask():
            return _update(state, command)
        case ToggleTask():
            return [TaskToggled(completed=not state.completed)]
        case DeleteTask():
            return [TaskDeleted()]
        case _:
            assert_never(command)


def _update(state: Task, command: UpdateTask) -> list[AnyTaskEvent]:
    changes = TaskUpdated(
        title=command.title if command.title not in (UNSET, state.title) else UNSET,
        description=(
            command.description if command.description not in (UNSET, state.description) else UNSET
        ),
    )
    events: list[AnyTaskEvent] = []
    if changes != TaskUpdated():
        events.append(changes)
    if command.completed is not UNSET and command.completed != state.completed:
        events.append(TaskToggled(completed=command.completed))
    return events
