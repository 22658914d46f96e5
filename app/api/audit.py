"""Audit, served from the event log: a task's history, time travel (a task as it stood at a
version or a moment, which GET /api/{user}/tasks/{id} answers), the feeds, the live stream."""

import re
from datetime import UTC, datetime
from itertools import takewhile
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent

from app.api import params
from app.api.auth import require_auditor
from app.api.deps import LogReader
from app.api.openapi import FEED_RESPONSES, HISTORY_RESPONSES
from app.api.params import After, EventType, Limit, UserFilter
from app.api.problems import ProblemError, bad_input
from app.api.schemas import EventOut, FeedOut, event_out, rfc3339
from app.api.sse import event_messages
from app.storage import event_store
from events import rules
from events.decide import TaskNotFound
from events.evolve import fold
from events.state import Task
from events.types import RecordedEvent

_BEYOND_MICROSECONDS = re.compile(r"(\.\d{6})\d+")


def parse_as_of(value: str) -> datetime:
    """An RFC 3339 time with an offset; digits beyond microseconds are cut, never rounded up."""
    try:
        at = msgspec.convert(_BEYOND_MICROSECONDS.sub(r"\1", value.strip()), datetime)
    except msgspec.ValidationError:
        at = None
    if at is not None and at.tzinfo is not None:
        try:
            return at.astimezone(UTC)
        except OverflowError:  # e.g. year 1 with a positive offset
            pass
    raise bad_input(
        "as_of",
        "must be an RFC 3339 time with an offset, such as 2026-11-26T16:00:00.123456Z"
        " (write + as %2B in a URL)",
    )


def _events_until(
    stream: list[RecordedEvent], version: int | None, as_of: datetime | None
) -> list[RecordedEvent]:
    if version is not None:
        if version > len(stream):
            raise ProblemError(
                404, f"The task has versions 1 to {len(stream)}; there is no version {version}."
            )
        return stream[:version]
    assert as_of is not None
    events = list(takewhile(lambda e: e.recorded_at <= as_of, stream))
    if not events:
        raise ProblemError(
            404,
            f"The task did not exist yet at {rfc3339(as_of)};"
            f" it was created at {rfc3339(stream[0].recorded_at)}.",
        )
    return events


async def task_as_it_stood(
    pool: asyncpg.Pool,
    owner: str,
    task_id: UUID,
    *,
    version: int | None,
    as_of: datetime | None,
) -> Task:
    """Fold the task's stream up to a version, or up to the last event recorded by a time."""
    if version is not None and as_of is not None:
        raise bad_input("as_of", "give either version or as_of, not both")
    async with pool.acquire() as conn:
        stream = await event_store.read_stream(conn, owner, task_id)
    if not stream:
        raise TaskNotFound()
    task = fold(_events_until(stream, version, as_of))
    if task is None:  # a stream that is not a task's: the user's own (UserErased)
        raise TaskNotFound()
    if task.deleted:
        raise ProblemError(
            404,
            f"The task was deleted at version {task.version}; ask for an earlier version.",
        )
    return task


async def _feed(
    pool: asyncpg.Pool, after: int, limit: int, user_id: str | None, type_name: str | None
) -> FeedOut:
    async with pool.acquire() as conn:
        page = await event_store.read_feed(
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
        log: NamedDependency[LogReader],
    ) -> list[EventOut]:
        """The task's events in version order; still there after the task is deleted."""
        async with (await log.current()).acquire() as conn:
            stream = await event_store.read_stream(conn, owner, task_id)
        if not stream:
            raise TaskNotFound()
        return [event_out(e) for e in stream]

    @get("/{user_id:str}/events", responses=FEED_RESPONSES)
    async def user_events(
        self,
        owner: NamedDependency[str],
        log: NamedDependency[LogReader],
        after: After = 0,
        limit: Limit = 100,
    ) -> FeedOut:
        """This user's events in log order, after a position."""
        return await _feed(await log.current(), after, limit, owner, None)

    @get("/events", guards=[require_auditor], responses=FEED_RESPONSES)
    async def all_events(
        self,
        log: NamedDependency[LogReader],
        after: After = 0,
        limit: Limit = 100,
        event_type: EventType = None,
        user: UserFilter = None,
    ) -> FeedOut:
        """Every user's events in log order, after a position (role auditor)."""
        user_id = rules.user_id(user) if user is not None else None
        type_name = params.event_type(event_type)
        return await _feed(await log.current(), after, limit, user_id, type_name)

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
        after: Annotated[
            int | None,
            QueryParameter(
                ge=0,
                le=params.MAX_POSITION,
                description="the last position seen; without it (and Last-Event-ID), from now on",
                schema_extra=params.POSITION_SCHEMA,
            ),
        ] = None,
        last_event_id: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", max_length=32)
        ] = None,
        event_type: EventType = None,
        user: UserFilter = None,
    ) -> ServerSentEvent:
        """Server-Sent Events: every event after Last-Event-ID, else `after`, else from now on."""
        if last_event_id is not None:
            after = params.last_event_id(last_event_id)
        async with pool.acquire() as conn:
            await event_store.sequence(conn)  # every acknowledged event, then what follows
            if after is None:
                after = await event_store.head(conn)
        state = request.app.state
        messages = event_messages(
            state.hub,
            after=after,
            user_id=rules.user_id(user) if user is not None else None,
            type_name=params.event_type(event_type),
            heartbeat_seconds=state.settings.stream_heartbeat_seconds,
        )
        return ServerSentEvent(messages)
