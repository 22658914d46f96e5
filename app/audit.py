"""Audit endpoints, served from the event log: a task's history, the feeds, the live stream."""

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent

from app import validate
from app.deps import require_auditor
from app.openapi import FEED_RESPONSES, HISTORY_RESPONSES
from app.schemas import EventOut, FeedOut, event_out
from app.stream import event_messages
from events import store
from events.decide import TaskNotFound
from events.types import EVENT_TYPES

After = Annotated[
    int, QueryParameter(ge=0, le=validate.MAX_POSITION, description="the last position seen")
]
Limit = Annotated[int, QueryParameter(ge=1, le=1000)]
EventType = Annotated[
    str | None,
    QueryParameter(
        name="type",
        max_length=64,
        description="one event type only",
        schema_extra={"enum": sorted(EVENT_TYPES)},
    ),
]
UserFilter = Annotated[
    str | None,
    QueryParameter(
        name="user_id",
        description="one user's only",
        schema_extra={"pattern": f"^{validate.USER_ID.pattern}$", "minLength": 1, "maxLength": 64},
    ),
]


async def _feed(
    pool: asyncpg.Pool, after: int, limit: int, user_id: str | None, type_name: str | None
) -> FeedOut:
    async with pool.acquire() as conn:
        page = await store.read_feed(
            conn, after=after, limit=limit, user_id=user_id, type_name=type_name
        )
    return FeedOut(events=[event_out(e) for e in page], next=page[-1].position if page else after)


class Audit(Controller):
    path = "/api"
    tags = ["audit"]

    @get("/{user_id:str}/tasks/{task_id:uuid}/history", responses=HISTORY_RESPONSES)
    async def task_history(
        self,
        owner: NamedDependency[str],
        task_id: FromPath[UUID],
        reader: NamedDependency[asyncpg.Pool],
    ) -> list[EventOut]:
        """The task's events in version order; still there after the task is deleted."""
        async with reader.acquire() as conn:
            stream = await store.read_stream(conn, owner, task_id)
        if not stream:
            raise TaskNotFound()
        return [event_out(e) for e in stream]

    @get("/{user_id:str}/events", responses=FEED_RESPONSES)
    async def user_events(
        self,
        owner: NamedDependency[str],
        reader: NamedDependency[asyncpg.Pool],
        after: After = 0,
        limit: Limit = 100,
    ) -> FeedOut:
        """This user's events in log order, after a position."""
        return await _feed(reader, after, limit, owner, None)

    @get("/events", guards=[require_auditor], responses=FEED_RESPONSES)
    async def all_events(
        self,
        reader: NamedDependency[asyncpg.Pool],
        after: After = 0,
        limit: Limit = 100,
        event_type: EventType = None,
        user: UserFilter = None,
    ) -> FeedOut:
        """Every user's events in log order, after a position (role auditor)."""
        user_id = validate.user_id(user) if user is not None else None
        return await _feed(reader, after, limit, user_id, validate.event_type(event_type))

    @get(
        "/events/stream",
        guards=[require_auditor],
        responses=FEED_RESPONSES,
        media_type="text/event-stream",
        response_description="id: position, event: type, data: the event JSON; `: ping` while quiet",
    )
    async def event_stream(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[asyncpg.Pool],
        after: Annotated[int | None, QueryParameter(ge=0, le=validate.MAX_POSITION)] = None,
        last_event_id: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", max_length=32)
        ] = None,
        event_type: EventType = None,
        user: UserFilter = None,
    ) -> ServerSentEvent:
        """Server-Sent Events: every event after Last-Event-ID, else `after`, else from now on."""
        if last_event_id is not None:
            after = validate.last_event_id(last_event_id)
        if after is None:
            async with pool.acquire() as conn:
                after = await store.head(conn)
        state = request.app.state
        messages = event_messages(
            state.hub,
            pool,
            after=after,
            user_id=validate.user_id(user) if user is not None else None,
            type_name=validate.event_type(event_type),
            heartbeat_seconds=state.settings.stream_heartbeat_seconds,
        )
        return ServerSentEvent(messages)
