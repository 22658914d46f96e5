"""Commands a caller can give a task, already validated and trimmed."""

from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType


class CreateTask(msgspec.Struct, frozen=True, kw_only=True):
    task_id: UUID
    user_id: str
    title: str
    description: str | None = None


class UpdateTask(msgspec.Struct, frozen=True, kw_only=True):
    title: str | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    completed: bool | UnsetType = UNSET
    expected_version: int | None = None


class ToggleTask(msgspec.Struct, frozen=True, kw_only=True):
    expected_version: int | None = None


class DeleteTask(msgspec.Struct, frozen=True, kw_only=True):
    expected_version: int | None = None


Command = CreateTask | UpdateTask | ToggleTask | DeleteTask
