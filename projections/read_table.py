"""The tasks read table: reading rows back as task state.

Rows are written by the append function (inline, in the command's statement) and by rebuild.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from events.state import Task
from sql import queries

_SQL = queries("tasks")


def task_from_row(row: Any) -> Task:
    """A read-table row as task state."""
    return Task(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        description=row["description"],
        completed=row["completed"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def get_task(
    conn: Any, user_id: str, task_id: UUID, *, for_update: bool = False
) -> Task | None:
    """The live task, or None if it does not exist for this user (or was deleted)."""
    row = await conn.fetchrow(_SQL["get_for_update" if for_update else "get"], user_id, task_id)
    return None if row is None else task_from_row(row)


async def list_tasks(
    conn: Any,
    user_id: str,
    *,
    completed: bool | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Task]:
    """A page of the user's tasks, newest first, after a keyset position."""
    created_at, task_id = after if after else (None, None)
    rows = await conn.fetch(_SQL["list"], user_id, completed, created_at, task_id, limit)
    return [task_from_row(r) for r in rows]
