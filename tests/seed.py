"""Events written straight through the store, for tests that need many or need them fast."""

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from events import store
from events.state import Task
from events.types import TaskCreated


async def append_one(conn: asyncpg.Connection, user: str) -> tuple[int, str]:
    """Create a task for the user; its event's position and the task id."""
    now = datetime.now(UTC)
    task = Task(
        id=uuid4(),
        user_id=user,
        title="t",
        description=None,
        completed=False,
        created_at=now,
        updated_at=now,
        version=1,
    )
    position = await store.append(
        conn,
        state=task,
        expected_version=0,
        events=[TaskCreated(title="t")],
        metadata={},
        recorded_at=now,
    )
    return position, str(task.id)
