"""The live event stream's response: every event after a position, then each new one as the
hub says something was appended, with pings while quiet (GET /api/events/stream)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import msgspec
from litestar.response import ServerSentEventMessage

from app.api.schemas import event_out
from app.runtime.db import DATABASE_UNAVAILABLE
from app.runtime.hub import EventHub
from events.types import RecordedEvent

log = logging.getLogger("tasks.stream")

PAGE = 500
_encode = msgspec.json.Encoder().encode


class _Rendered(ServerSentEventMessage):
    """An event's message, encoded once: every stream that reads the same page (they share
    it, app/runtime/hub.py) sends these bytes instead of encoding the event again."""

    def __init__(self, recorded: RecordedEvent) -> None:
        data = _encode(event_out(recorded)).decode()
        super().__init__(data=data, event=recorded.type, id=recorded.position)
        self.position = recorded.position
        self.frame = super().encode()

    def encode(self) -> bytes:
        return self.frame


def _render(page: list[RecordedEvent]) -> list[_Rendered]:
    return [_Rendered(recorded) for recorded in page]


async def _woken_within(wake: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(max(seconds, 0)):
            await wake.wait()
    except TimeoutError:
        return False
    return True


async def event_messages(
    hub: EventHub,
    *,
    after: int,
    user_id: str | None,
    type_name: str | None,
    heartbeat_seconds: float,
) -> AsyncIterator[ServerSentEventMessage]:
    """Every event after `after`, then each new one as it commits, with pings while quiet."""
    wake = hub.subscribe()
    position, sent_at = after, time.monotonic()
    try:
        yield ServerSentEventMessage(data=None, comment="ping", retry=1000)
        while not hub.stopping:
            wake.clear()  # before reading: a commit after the read sets it again
            page = await hub.read_page(position, PAGE, user_id, type_name, _render)
            for message in page:
                yield message
            if page:
                position, sent_at = page[-1].position, time.monotonic()
                if len(page) == PAGE:
                    continue
            quiet = time.monotonic() - sent_at
            if not await _woken_within(wake, heartbeat_seconds - quiet):
                sent_at = time.monotonic()
                yield ServerSentEventMessage(data=None, comment="ping")
    except DATABASE_UNAVAILABLE as exc:
        # End the response; the client reconnects with Last-Event-ID and loses nothing.
        log.warning("event stream ended: database unavailable (%s)", type(exc).__name__)
    finally:
        hub.unsubscribe(wake)
