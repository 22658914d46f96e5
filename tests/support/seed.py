"""Tasks made for tests: as state, or created straight through the store when a test needs
many, needs them fast, or needs times of its own (Writer: a stream event by event)."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from app.storage import event_store
from events.evolve import evolve
from events.state import Task
from events.types import AnyTaskEvent, RecordedEvent, TaskCreated


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


async def queue(conn: asyncpg.Connection, task: Task) -> None:
    """Append the task's TaskCreated (and its read row), in the caller's transaction if it
    has one: the event waits for the sequencer."""
    await event_store.append(
        conn,
        state=task,
        expected_version=0,
        events=[TaskCreated(title=task.title, description=task.description)],
        metadata={},
        recorded_at=task.created_at,
    )


async def create(conn: asyncpg.Connection, task: Task) -> int:
    """Append the task's TaskCreated (and its read row) and sequence it; its position."""
    await queue(conn, task)
    return await position_of(conn, task.user_id, task.id)


async def position_of(
    conn: asyncpg.Connection, user: str, stream_id: UUID, version: int = 1
) -> int:
    """The position of a committed event, sequencing it first if it still waits."""
    await event_store.sequence(conn)
    position: int = await conn.fetchval(
        "SELECT position FROM events WHERE user_id = $1 AND stream_id = $2 AND version = $3",
        user,
        stream_id,
        version,
    )
    return position


async def append_one(conn: asyncpg.Connection, user: str) -> tuple[int, str]:
    """Create a task for the user; its event's position and the task id."""
    task = new_task(user)
    return await create(conn, task), str(task.id)


class Writer:
    """One task's stream: each append folds the event into the state and stores both."""

    def __init__(self, conn: asyncpg.Connection, user_id: str, task_id: UUID | None = None):
        self.conn = conn
        self.user_id = user_id
        self.task_id = task_id or uuid4()
        self.state: Task | None = None

    async def append(self, at: datetime, event: AnyTaskEvent) -> int:
        version = self.state.version if self.state else 0
        recorded = RecordedEvent(
            position=0,
            stream_id=self.task_id,
            version=version + 1,
            user_id=self.user_id,
            event=event,
            metadata={},
            recorded_at=at,
        )
        new_state = evolve(self.state, recorded)
        assert new_state is not None
        await event_store.append(
            self.conn,
            state=new_state,
            expected_version=version,
            events=[event],
            metadata={"request_id": f"seed-{uuid4()}", "actor": self.user_id},
            recorded_at=at,
        )
        self.state = new_state
        return await position_of(self.conn, self.user_id, self.task_id, version + 1)
