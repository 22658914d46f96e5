"""The CRUD service's tasks table in a database of its own, filled as its users left it."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import asyncpg

from tests.support.databases import on_database

DDL = (Path(__file__).parents[1] / "fixtures" / "crud" / "tasks.sql").read_text()


class OldTask(NamedTuple):
    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime


def old_tasks(user: str, count: int, start: datetime | None = None) -> list[OldTask]:
    """Tasks as the old service made them: times of their own (with microseconds), some
    completed, some described, updated after they were created."""
    start = start or datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    return [
        OldTask(
            id=uuid.uuid4(),
            user_id=user,
            title=f"  old task {n} ✓ " if n % 3 == 0 else f"old task {n}",
            description=None if n % 2 else f"from the old service, #{n}",
            completed=n % 4 == 1,
            created_at=start + timedelta(minutes=n, microseconds=n),
            updated_at=start + timedelta(days=1, minutes=n, microseconds=7 * n),
        )
        for n in range(count)
    ]


async def create_source(admin_url: str) -> str:
    """A new database holding an empty old-style tasks table; its URL."""
    name = f"tasks_crud_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = on_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(DDL)
    finally:
        await conn.close()
    return url


async def drop_source(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def insert(url: str, tasks: Sequence[OldTask]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "tasks", records=[tuple(t) for t in tasks], columns=list(OldTask._fields)
        )
    finally:
        await conn.close()


def as_read_row(task: OldTask) -> dict[str, Any]:
    """The read row an import makes of an old row: the title trimmed, as a command's."""
    return {**task._asdict(), "title": task.title.strip(), "version": 1}
