"""A load of creates, toggles and lists against a live server, recording every answer."""

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
import httpx

from app.storage import event_store
from events.evolve import fold
from events.state import Task
from events.types import RecordedEvent
from projections.rows import task_from_row


@dataclass(frozen=True)
class Ack:
    """A command the server answered with 2xx: this version of this task must be in the log."""

    user: str
    task_id: UUID
    version: int


@dataclass
class Load:
    client: httpx.AsyncClient
    users: list[str]
    writers_per_user: int = 3
    seed: int = 7
    acked: list[Ack] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: list[httpx.Response] = field(default_factory=list)
    transport_errors: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, *, quit_on_transport_error: bool = False) -> None:
        """Until stopped (or, if asked, until the server goes away)."""
        await asyncio.gather(
            *(
                self._writer(
                    user, random.Random(f"{self.seed}-{user}-{n}"), quit_on_transport_error
                )
                for user in self.users
                for n in range(self.writers_per_user)
            )
        )

    async def _writer(self, user: str, rng: random.Random, quit_on_transport_error: bool) -> None:
        tasks: list[str] = []
        while not self.stop.is_set():
            try:
                response = await self._send(user, tasks, rng)
            except httpx.TransportError:
                self.transport_errors += 1
                if quit_on_transport_error:
                    return
                await asyncio.sleep(0.02)
                continue
            self._record(user, response, tasks)
            if not response.is_success:
                await asyncio.sleep(0.01)  # a refused writer backs off a little, as a client would

    async def _send(self, user: str, tasks: list[str], rng: random.Random) -> httpx.Response:
        roll = rng.random()
        if not tasks or roll < 0.3:
            return await self.client.post(f"/api/{user}/tasks", json={"title": f"t{roll:.6f}"})
        if roll < 0.45:
            return await self.client.get(f"/api/{user}/tasks", params={"limit": 5})
        return await self.client.patch(f"/api/{user}/tasks/{rng.choice(tasks)}/complete")

    def _record(self, user: str, response: httpx.Response, tasks: list[str]) -> None:
        self.statuses[response.status_code] += 1
        if not response.is_success:
            self.refusals.append(response)
        elif response.request.method != "GET":
            body = response.json()
            self.acked.append(Ack(user, UUID(body["id"]), body["version"]))
            if response.status_code == 201:
                tasks.append(body["id"])


async def until(
    condition: Callable[[], Awaitable[bool]], within: float, step: float = 0.02
) -> None:
    """Wait for a condition, polling; fail if it does not come true within the given seconds."""
    for _ in range(int(within / step)):
        if await condition():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"not true within {within} s")


async def assert_nothing_acknowledged_was_lost(
    pool: asyncpg.Pool, users: list[str], acked: list[Ack]
) -> None:
    """Every acknowledged command is in the log, and the read table is the fold of the log."""
    async with pool.acquire() as conn:
        # Committed events a killed server had not yet sequenced wait in pending_events: a
        # reader of the log (or the next leader) sequences them first, as this one does.
        await event_store.sequence(conn)
        for user in users:
            events = await event_store.read_feed(conn, after=0, limit=1_000_000, user_id=user)
            streams: dict[UUID, list[RecordedEvent]] = {}
            for event in events:
                streams.setdefault(event.stream_id, []).append(event)
            folded: dict[UUID, Task] = {}
            for stream_id, stream in streams.items():
                assert [e.version for e in stream] == list(range(1, len(stream) + 1))
                state = fold(stream)
                if state is not None and not state.deleted:
                    folded[stream_id] = state
            rows = await conn.fetch("SELECT * FROM tasks WHERE user_id = $1", user)
            table = [task_from_row(r) for r in rows]
            assert {t.id: t for t in table} == folded
            for ack in (a for a in acked if a.user == user):
                assert len(streams.get(ack.task_id, [])) >= ack.version, ack


def assert_only_served_or_503(load: Load) -> None:
    """No 500s: each answer is a success or a 503 problem with Retry-After."""
    assert set(load.statuses) <= {200, 201, 503}, load.statuses
    for response in load.refusals:
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
