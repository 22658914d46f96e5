"""The stream's hub and message loop against a real PostgreSQL: NOTIFY wakes clients, a poll
wakes them when nobody can listen, quiet streams ping, and a stopping hub ends every stream."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from litestar.response import ServerSentEventMessage

from app.api.sse import event_messages
from app.runtime.db import create_pool
from app.runtime.hub import EventHub
from app.settings import Settings
from app.storage import event_store
from events.types import RecordedEvent
from tests.support.databases import connect
from tests.support.proxy import DatabaseProxy
from tests.support.random_refs import random_user
from tests.support.seed import append_one
from tests.support.sse import TIMEOUT_SECONDS

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"


@asynccontextmanager
async def hub_of(dsn: str, pool: asyncpg.Pool, poll_seconds: float) -> AsyncIterator[EventHub]:
    hub = EventHub(dsn, pool, poll_seconds=poll_seconds)
    try:
        yield hub
    finally:
        await hub.close()


async def woken(wake: asyncio.Event) -> None:
    async with asyncio.timeout(TIMEOUT_SECONDS):
        await wake.wait()
    wake.clear()


async def test_a_commit_wakes_a_client_through_notify(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    async with hub_of(migrated_url, pool, poll_seconds=600) as hub:
        wake = hub.subscribe()
        await woken(wake)  # the hub wakes everyone once it listens: it may have missed some
        async with pool.acquire() as conn:
            await append_one(conn, random_user())
        await woken(wake)  # no poll for ten minutes: only the notification can do this


async def test_with_no_listener_the_poll_still_wakes_clients(pool: asyncpg.Pool) -> None:
    async with hub_of(UNREACHABLE, pool, poll_seconds=0.05) as hub:
        wake = hub.subscribe()
        await woken(wake)  # the first poll learns where the log ends
        async with pool.acquire() as conn:
            await append_one(conn, random_user())
        await woken(wake)


def as_is(page: list[RecordedEvent]) -> list[RecordedEvent]:
    return page


async def test_clients_woken_by_the_same_commit_share_one_read_of_their_page(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        start = await event_store.head(conn)
    async with hub_of(migrated_url, pool, poll_seconds=600) as hub:
        wake = hub.subscribe()
        await woken(wake)
        async with pool.acquire() as conn:
            position, _ = await append_one(conn, user)
        await woken(wake)
        pages = await asyncio.gather(
            *(hub.read_page(start, 10, user, None, as_is) for _ in range(5))
        )
        assert [e.position for e in pages[0]] == [position]
        assert all(page is pages[0] for page in pages[1:])  # one read, five clients


async def test_a_client_woken_after_a_read_began_does_not_join_it(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        start = await event_store.head(conn)
    async with hub_of(migrated_url, pool, poll_seconds=600) as hub:
        wake = hub.subscribe()
        await woken(wake)
        # The listening connection is held, so the first read waits while a commit wakes us.
        async with hub._listener_busy:
            before = asyncio.ensure_future(hub.read_page(start, 10, user, None, as_is))
            also_before = asyncio.ensure_future(hub.read_page(start, 10, user, None, as_is))
            await asyncio.sleep(0)
            async with pool.acquire() as conn:
                position, _ = await append_one(conn, user)
            await woken(wake)
            after = asyncio.ensure_future(hub.read_page(start, 10, user, None, as_is))
            await asyncio.sleep(0)
        first, same, second = await asyncio.gather(before, also_before, after)
    assert same is first
    assert second is not first  # its own read, begun after the wake-up that reached it
    assert [e.position for e in second] == [position]


async def next_message(messages: AsyncIterator[ServerSentEventMessage]) -> ServerSentEventMessage:
    async with asyncio.timeout(TIMEOUT_SECONDS):
        return await anext(messages)


async def test_a_stream_sends_new_events_pings_when_quiet_and_ends_when_the_hub_stops(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        start = await event_store.head(conn)
    async with hub_of(migrated_url, pool, poll_seconds=600) as hub:
        messages = event_messages(
            hub, after=start, user_id=user, type_name=None, heartbeat_seconds=0.05
        )
        first = await next_message(messages)
        assert (first.comment, first.retry, first.data) == ("ping", 1000, None)
        async with pool.acquire() as conn:
            position, stream_id = await append_one(conn, user)
        message = await next_message(messages)
        while message.comment == "ping":
            message = await next_message(messages)
        assert (message.id, message.event) == (position, "TaskCreated")
        assert stream_id in str(message.data)
        assert (await next_message(messages)).comment == "ping"
        hub.end_streams()
        async with asyncio.timeout(TIMEOUT_SECONDS):
            remaining = [m async for m in messages]
    assert all(m.comment == "ping" for m in remaining)


async def test_a_stream_ends_quietly_when_the_database_goes_away(
    settings: Settings, migrated_url: str
) -> None:
    proxy = DatabaseProxy(migrated_url)
    proxy.start()
    pool = await create_pool(proxy.url, settings)
    try:
        async with hub_of(proxy.url, pool, poll_seconds=0.05) as hub:
            messages = event_messages(
                hub, after=2**62, user_id=None, type_name=None, heartbeat_seconds=0.05
            )
            assert (await next_message(messages)).comment == "ping"
            proxy.cut()
            # The response ends (no error): the client reconnects with Last-Event-ID.
            async with asyncio.timeout(TIMEOUT_SECONDS):
                remaining = [m async for m in messages]
            assert all(m.comment == "ping" for m in remaining)
    finally:
        pool.terminate()
        proxy.close()


async def test_streams_woken_by_the_same_commit_send_one_encoding_of_each_event(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    async with pool.acquire() as conn:
        start = await event_store.head(conn)
    async with hub_of(migrated_url, pool, poll_seconds=600) as hub:
        streams = [
            event_messages(hub, after=start, user_id=user, type_name=None, heartbeat_seconds=600)
            for _ in range(2)
        ]
        for stream in streams:
            assert (await next_message(stream)).comment == "ping"
        waiting = [asyncio.ensure_future(next_message(stream)) for stream in streams]
        async with pool.acquire() as conn:
            position, _ = await append_one(conn, user)
        first, second = await asyncio.gather(*waiting)
    assert first is second  # encoded once, sent twice
    assert (first.id, first.event) == (position, "TaskCreated")
    fresh = ServerSentEventMessage(data=first.data, event=first.event, id=first.id)
    assert first.encode() == fresh.encode()  # the bytes Litestar itself would send


async def test_a_page_read_does_not_hang_when_the_listening_connection_goes_silent(
    settings: Settings, migrated_url: str
) -> None:
    # Pages are read on the hub's listening connection. Over a network that drops packets
    # nothing answers, and only a client-side limit (as the pool's queries have) ends the
    # wait; the page then comes from the pool, which here reaches the database directly.
    quick = settings.model_copy(update={"statement_timeout_ms": 300})
    pool = await create_pool(migrated_url, quick)
    proxy = DatabaseProxy(migrated_url)
    proxy.start()
    user = random_user()
    try:
        async with pool.acquire() as conn:
            start = await event_store.head(conn)
        async with hub_of(proxy.url, pool, poll_seconds=600) as hub:
            wake = hub.subscribe()
            await woken(wake)  # listening, through the proxy
            # Appended on a connection of its own, without the pool's 300 ms limit: a new
            # connection's first append looks its parameter types up, which takes longer than
            # that on a Citus coordinator (docs/scaling.md).
            writer = await connect(migrated_url)
            try:
                position, _ = await append_one(writer, user)
            finally:
                await writer.close()
            proxy.freeze()
            try:
                async with asyncio.timeout(TIMEOUT_SECONDS):
                    page = await hub.read_page(start, 10, user, None, as_is)
            finally:
                proxy.thaw()
        assert [e.position for e in page] == [position]
    finally:
        proxy.close()
        await pool.close()


async def test_closing_the_hub_does_not_hang_on_a_silent_database(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    # The service stops through hub.close(): a network that drops packets must not keep it
    # from stopping (closing a connection politely waits for the server's goodbye).
    proxy = DatabaseProxy(migrated_url)
    proxy.start()
    try:
        hub = EventHub(proxy.url, pool, poll_seconds=600)
        await woken(hub.subscribe())  # listening, through the proxy
        proxy.freeze()
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await hub.close()
    finally:
        proxy.close()
