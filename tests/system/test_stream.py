"""The live event stream through a real server: new events arrive, a reconnecting client resumes
after Last-Event-ID, pings keep quiet streams open, and many clients share few connections."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from app.runtime.locks import lock_key
from app.runtime.migrate import migrate_url
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer
from tests.support.sse import EventStream

POOL_MAX = 3
# One shared listener per process, and pages read from the pool, whatever the number of clients.
STREAM_SERVER_ENV = {
    "TASKS_POOL_MIN_SIZE": "1",
    "TASKS_POOL_MAX_SIZE": str(POOL_MAX),
    # So long that every delivery to these clients has to come from a NOTIFY wake-up.
    "TASKS_STREAM_HEARTBEAT_SECONDS": "600",
    "TASKS_STREAM_POLL_SECONDS": "600",
}


async def service_connections(url: str) -> set[int]:
    """Backends of the service (application_name 'tasks') in this database."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = 'tasks' AND datname = current_database()"
        )
    finally:
        await conn.close()
    return {r["pid"] for r in rows}


@pytest.fixture(scope="module")
async def stream_server(migrated_url: str) -> AsyncIterator[tuple[LiveServer, set[int]]]:
    """A server of its own, with the service's connections that existed before it started."""
    before = await service_connections(migrated_url)
    server = LiveServer(migrated_url, **STREAM_SERVER_ENV)
    try:
        await asyncio.to_thread(server.wait_ready)
        yield server, before
    finally:
        await asyncio.to_thread(server.stop)


async def write_history(client: httpx.AsyncClient, user: str) -> str:
    """Three commands, four events (create, rename + complete, uncomplete); the task's url."""
    task = (await client.post(f"/api/{user}/tasks", json={"title": "t"})).json()
    url = f"/api/{user}/tasks/{task['id']}"
    assert (await client.put(url, json={"title": "u", "completed": True})).status_code == 200
    assert (await client.patch(f"{url}/complete")).status_code == 200
    return url


async def test_events_committed_after_connecting_arrive_as_id_type_and_data(
    live_server: LiveServer,
) -> None:
    user = random_user()
    async with (
        live_server.client() as client,
        client.stream("GET", "/api/events/stream") as response,
    ):
        stream = EventStream(response)
        url = await write_history(client, user)
        history = (await client.get(f"{url}/history")).json()
        received = []
        while len(received) < len(history):
            received += [e for e in await stream.take(1) if e["data"]["user_id"] == user]
    assert [(e["id"], e["event"], e["data"]) for e in received] == [
        (e["position"], e["type"], e) for e in history
    ]
    assert stream.comments[0] == "ping"  # sent at once, so proxies pass the headers on


async def test_a_client_reconnecting_with_last_event_id_loses_nothing_and_repeats_nothing(
    live_server: LiveServer,
) -> None:
    user = random_user()
    async with live_server.client() as client:
        first_url = await write_history(client, user)
        start = (await client.get(f"{first_url}/history")).json()[0]["position"] - 1
        stream_url = f"/api/events/stream?user_id={user}&after={start}"
        async with client.stream("GET", stream_url) as response:
            before = await EventStream(response).take(3)
        await write_history(client, user)  # written while the client is away
        last_seen = {"Last-Event-ID": str(before[-1]["id"])}
        async with client.stream("GET", stream_url, headers=last_seen) as response:
            after = await EventStream(response).take(5)
        log = (await client.get(f"/api/{user}/events")).json()["events"]
    assert [e["id"] for e in before + after] == [e["position"] for e in log]
    assert [e["data"] for e in before + after] == log


async def test_twenty_clients_use_no_more_connections_than_the_pool_and_one_listener(
    stream_server: tuple[LiveServer, set[int]], migrated_url: str
) -> None:
    server, before = stream_server
    user = random_user()
    limits = httpx.Limits(max_connections=32)
    async with server.client(limits=limits, timeout=30) as client:
        responses = [
            await client.send(
                client.build_request("GET", f"/api/events/stream?user_id={user}"), stream=True
            )
            for _ in range(20)
        ]
        streams = [EventStream(r) for r in responses]
        peak = 0
        for _ in range(2):  # the second batch can only be woken by NOTIFY: the listener is up
            await write_history(client, user)
            batches = await asyncio.gather(*(s.take(4) for s in streams))
            peak = max(peak, len(await service_connections(migrated_url) - before))
        for response in responses:
            await response.aclose()
    positions = {tuple(e["id"] for e in batch) for batch in batches}
    assert len(positions) == 1, "every client saw the same events"
    assert 1 <= peak <= POOL_MAX + 1


async def test_stopping_the_server_ends_open_streams_cleanly(migrated_url: str) -> None:
    server = LiveServer(migrated_url)
    try:
        await asyncio.to_thread(server.wait_ready)
        async with (
            server.client() as client,
            client.stream("GET", "/api/events/stream") as response,
        ):
            stream = EventStream(response)
            await stream.take_comments(1)
            server.process.terminate()
            with pytest.raises(EOFError):
                await stream.take(1)  # the response ends: the client would reconnect
        await asyncio.to_thread(server.process.wait, 30)
    finally:
        await asyncio.to_thread(server.stop)
    errors = server.log_text()
    assert "Traceback" not in errors and "ERROR" not in errors, errors


async def test_with_no_leader_to_sequence_a_stream_still_gets_every_event(
    fresh_database: str,
) -> None:
    """The background sequencer runs on the leader. Without one (a failover), a stream opened
    after a command still starts with its events, and the hub's poll moves the rest on."""
    await migrate_url(fresh_database)
    holder = await asyncpg.connect(fresh_database)
    await holder.execute("SELECT pg_advisory_lock($1)", lock_key("leader"))  # never ours
    server = LiveServer(fresh_database, TASKS_STREAM_POLL_SECONDS="0.2")
    try:
        await asyncio.to_thread(server.wait_ready)
        user = random_user()
        async with server.client() as client:
            first = (await client.post(f"/api/{user}/tasks", json={"title": "t"})).json()
            async with client.stream("GET", "/api/events/stream?after=0") as response:
                stream = EventStream(response)
                assert [e["data"]["stream_id"] for e in await stream.take(1)] == [first["id"]]
                url = await write_history(client, user)
                later = await stream.take(4)
            history = (await client.get(f"{url}/history")).json()
        assert [e["id"] for e in later] == [e["position"] for e in history]
    finally:
        await asyncio.to_thread(server.stop)
        await holder.close()
