"""Tasks made for tests: as state, or created straight through the store when a test needs
many, needs them fast, or needs a creation time of its own."""

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from app.storage import event_store
from events.state import Task
from events.types import TaskCreated


def new_task(user: str = "alice", title: str = "t", at: datetime | None = None) -> Task:
    """A task as it stands right after its TaskCreated: version 1, not completed."""
    at = at or datetime.now(UTC)
    return Task(
        id=uuid4(),
        user_id=user,
        title=title,
        description=None,
        completed=False,
        created_at=at,
        updated_at=at,
        version=1,
    )


async def create(conn: asyncpg.Connection, task: Task) -> int:
    """Append the task's TaskCreated (and its read row); the event's position."""
    return await event_store.append(
        conn,
        state=task,
        expected_version=0,
        events=[TaskCreated(title=task.title, description=task.description)],
        metadata={},
        recorded_at=task.created_at,
    )


async def append_one(conn: asyncpg.Connection, user: str) -> tuple[int, str]:
    """Create a task for the user; its event's position and the task id."""
    task = new_task(user)
    return await create(conn, task), str(task.id)
