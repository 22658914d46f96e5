"""The state of one task, as folded from its events."""

from datetime import datetime
from uuid import UUID

import msgspec


class Task(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime
    version: int
    deleted: bool = False
