"""Reads from a real streaming replica, with the consistency token keeping read-your-writes."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.migrate import migrate_url
from app.runtime.replicas import Replica
from app.settings import Settings
from tests.support.pgcluster import PrimaryWithStandby
from tests.support.random_refs import random_user
from tests.support.servers import signed_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrimaryWithStandby]:
    cluster = PrimaryWithStandby()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def standby(cluster: PrimaryWithStandby) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(cluster.standby.url)
    yield conn
    await conn.execute("SELECT pg_wal_replay_resume()")
    await conn.close()


def replica_settings(settings: Settings, cluster: PrimaryWithStandby, **extra: object) -> Settings:
    return settings.model_copy(
        update={
            "database_url": cluster.primary.url,
            "read_replica_urls": [cluster.standby.url],
            "consistency_wait_ms": 300,
            **extra,
        }
    )


async def pause_replay(standby: asyncpg.Connection) -> None:
    """Pause the standby's replay and wait until it has stopped (the request is asynchronous)."""
    await standby.execute("SELECT pg_wal_replay_pause()")
    async with asyncio.timeout(5):
        while await standby.fetchval("SELECT pg_get_wal_replay_pause_state()") != "paused":  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def titles(client: AsyncTestClient, user: str, token: str | None = None) -> list[str]:
    headers = {"X-Consistency-Token": token} if token else {}
    response = await client.get(f"/api/{user}/tasks", headers=headers)
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()]


async def until(predicate) -> None:  # type: ignore[no-untyped-def]
    """Wait up to 5 s for an async predicate to hold."""
    async with asyncio.timeout(5):
        while not await predicate():  # noqa: ASYNC110 - polling another process
            await asyncio.sleep(0.05)


async def test_queries_read_the_replica_and_a_token_still_sees_its_own_write(
    cluster: PrimaryWithStandby, standby: asyncpg.Connection, settings: Settings
) -> None:
    await migrate_url(cluster.primary.url)
    user = random_user()
    async with signed_client(create_app(replica_settings(settings, cluster))) as client:
        first = await client.post(f"/api/{user}/tasks", json={"title": "first"})
        token = first.headers["x-consistency-token"]
        assert await titles(client, user, token) == ["first"]

        await pause_replay(standby)
        second = await client.post(f"/api/{user}/tasks", json={"title": "second"})
        # Without a token the paused replica answers: it has not seen the second task.
        assert await titles(client, user) == ["first"]
        # With the second command's token the query falls back to the primary.
        assert await titles(client, user, second.headers["x-consistency-token"]) == [
            "second",
            "first",
        ]
        await standby.execute("SELECT pg_wal_replay_resume()")
        await until(lambda: _sees(client, user, 2))


async def _is_down(replica: Replica) -> bool:
    return not replica.healthy


async def _lags_beyond(replica: Replica, seconds: float) -> bool:
    return replica.lag_seconds > seconds


async def _sees(client: AsyncTestClient, user: str, count: int) -> bool:
    return len(await titles(client, user)) == count


async def test_a_replica_lagging_beyond_the_bound_is_skipped(
    cluster: PrimaryWithStandby, standby: asyncpg.Connection, settings: Settings
) -> None:
    await migrate_url(cluster.primary.url)
    user = random_user()
    app = create_app(replica_settings(settings, cluster, replica_max_lag_ms=300))
    async with signed_client(app) as client:
        replica = client.app.state.replicas.replicas[0]
        await client.post(f"/api/{user}/tasks", json={"title": "first"})
        await pause_replay(standby)
        await client.post(f"/api/{user}/tasks", json={"title": "second"})
        # The monitor sees the replica fall more than 300 ms behind while it stays up...
        await until(lambda: _lags_beyond(replica, 0.3))
        assert replica.healthy
        # ...and, its replay still paused (it has not seen "second"), it answers no query:
        # every one, without a token, goes to the primary and sees both tasks.
        for _ in range(10):
            assert await titles(client, user) == ["second", "first"]
        assert await standby.fetchval("SELECT pg_get_wal_replay_pause_state()") == "paused"
        assert (
            await standby.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user) == 1
        )  # the replica, asked directly, still has only the first


async def test_a_replica_that_is_down_is_skipped(
    cluster: PrimaryWithStandby, settings: Settings
) -> None:
    await migrate_url(cluster.primary.url)
    user = random_user()
    async with signed_client(create_app(replica_settings(settings, cluster))) as client:
        await client.post(f"/api/{user}/tasks", json={"title": "first"})
        replica = client.app.state.replicas.replicas[0]
        cluster.standby.stop()
        try:
            # The monitor notices within one round (0.2 s); until then a query sent to the
            # stopped replica would get a 503, as docs/scaling.md says.
            await until(lambda: _is_down(replica))
            for _ in range(20):
                assert await titles(client, user) == ["first"]
            assert (await client.get("/ready")).status_code == 200
        finally:
            cluster.standby.start()
