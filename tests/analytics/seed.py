"""Appending events with chosen times through the real write path (append_task_events)."""

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from app.storage import event_store
from events.evolve import evolve
from events.state import Task
from events.types import AnyTaskEvent, RecordedEvent


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
        position = await event_store.append(
            self.conn,
            state=new_state,
            expected_version=version,
            events=[event],
            metadata={"request_id": f"seed-{uuid4()}", "actor": self.user_id},
            recorded_at=at,
        )
        self.state = new_state
        return position
