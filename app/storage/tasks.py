"""The tasks read table as commands and queries read it: one task, or a page as the API's JSON.

Rows are written by the append function (inline, in the command's statement) and by rebuild.
"""

from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import asyncpg

from events.state import Task
from projections.rows import COLUMNS, TIMES, task_from_row
from sql import queries

_SQL = queries("tasks")


@cache
def _list_json() -> str:
    """The list_json query, its select list made from the read table's columns."""
    columns = (f"rfc3339(t.{c}) AS {c}" if c in TIMES else f"t.{c}" for c in COLUMNS)
    return _SQL["list_json"].replace("{task_json}", ", ".join(columns))


async def get_task(
    conn: Any, user_id: str, task_id: UUID, *, for_update: bool = False
) -> Task | None:
    """The live task, or None if it does not exist for this user (or was deleted)."""
    row = await conn.fetchrow(_SQL["get_for_update" if for_update else "get"], user_id, task_id)
    return None if row is None else task_from_row(row)


async def list_json(
    conn: asyncpg.Connection,
    user_id: str,
    *,
    completed: bool | None,
    after: tuple[datetime, UUID] | None,
    limit: int | None,
) -> list[asyncpg.Record]:
    """A page of the user's tasks (all of them when limit is None), newest first, after a
    keyset position: each row's created_at and id (the keyset) and body, the task as the
    API's JSON."""
    created_at, task_id = after if after else (None, None)
    rows: list[asyncpg.Record] = await conn.fetch(
        _list_json(), user_id, completed, created_at, task_id, limit
    )
    return rows
