"""Reading Server-Sent Events from an httpx streaming response, as a browser's EventSource would."""

import asyncio
import json
from typing import Any

import httpx

# Only keeps a broken stream from hanging the run; nothing here asserts a timing.
TIMEOUT_SECONDS = 10


class EventStream:
    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def _block(self) -> dict[str, str]:
        """The fields of the next message (a block ended by a blank line); comments noted."""
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                fields.setdefault("comment", line[1:].strip())
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            elif fields:
                return fields
        raise EOFError("the stream ended")

    async def next_event(self) -> dict[str, Any]:
        """The next message with data: {"id", "event", "data" (decoded JSON)}."""
        while "data" not in (fields := await self._block()):
            pass
        return {
            "id": int(fields["id"]),
            "event": fields["event"],
            "data": json.loads(fields["data"]),
        }

    async def take(self, count: int) -> list[dict[str, Any]]:
        """The next `count` events."""
        async with asyncio.timeout(TIMEOUT_SECONDS):
            return [await self.next_event() for _ in range(count)]

    async def take_comments(self, count: int) -> list[str]:
        """Read until `count` comment lines have come, noting (and dropping) any events."""
        async with asyncio.timeout(TIMEOUT_SECONDS):
            while len(self.comments) < count:
                await self._block()
        return self.comments
