"""The pool hands connections out first come, first served, and keeps its acquire timeout."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.runtime.db import Pool, create_pool, init_connection
from app.settings import Settings


@pytest.fixture
async def pool_of_two(settings: Settings) -> AsyncIterator[Pool]:
    assert settings.database_url
    small = settings.model_copy(update={"pool_min_size": 2, "pool_max_size": 2})
    pool = await create_pool(settings.database_url, small)
    yield pool
    await pool.close()


async def _served_order(pool: asyncpg.Pool) -> list[str]:
    """Two requests hold the pool's two connections while ten more queue up (w0..w9, in that
    order); then the two give theirs back and, in the same loop turn, two new requests
    arrive (n0, n1: as from the network, just as connections come free). The list: who got
    a connection, in order."""
    served: list[str] = []
    holding = asyncio.Event()
    go = asyncio.Event()
    held = 0

    async def holder() -> None:
        nonlocal held
        async with pool.acquire():
            held += 1
            if held == 2:
                holding.set()
            await go.wait()

    async def request(name: str) -> None:
        async with pool.acquire() as conn:
            served.append(name)
            await conn.fetchval("SELECT 1")

    async def arrivals() -> list[asyncio.Task[None]]:
        await go.wait()  # woken right after the holders, which are releasing by now
        return [asyncio.create_task(request(f"n{i}")) for i in range(2)]

    holders = [asyncio.create_task(holder()) for _ in range(2)]
    await holding.wait()
    waiters = []
    for i in range(10):
        waiters.append(asyncio.create_task(request(f"w{i}")))
        await asyncio.sleep(0.005)  # w{i} is queued before w{i+1} asks
    newcomers = asyncio.create_task(arrivals())
    await asyncio.sleep(0.005)
    go.set()
    await asyncio.gather(*holders, *waiters, *await newcomers)
    return served


async def test_connections_go_to_the_longest_waiting_request(pool_of_two: Pool) -> None:
    served = await _served_order(pool_of_two)
    assert served[:10] == [f"w{i}" for i in range(10)]
    assert sorted(served[10:]) == ["n0", "n1"]


async def _no_reset(conn: asyncpg.Connection) -> None:
    """As the service's pool: no reset query on release."""


async def test_asyncpg_alone_lets_newcomers_overtake(settings: Settings) -> None:
    """Why the gate exists: asyncpg's own pool, same requests, serves the newcomers first.
    (Should a release of asyncpg make this fail, its queue became fair and FifoGate can go.)"""
    assert settings.database_url
    plain = await asyncpg.create_pool(
        settings.database_url, min_size=2, max_size=2, init=init_connection, reset=_no_reset
    )
    try:
        served = await _served_order(plain)
    finally:
        await plain.close()
    assert served[:10] != [f"w{i}" for i in range(10)]
    assert "n0" in served[:2] or "n1" in served[:2]


async def test_a_waiting_acquire_still_times_out(pool_of_two: Pool) -> None:
    async with pool_of_two.acquire(), pool_of_two.acquire():
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            async with pool_of_two.acquire(timeout=0.2):
                pass
        assert 0.15 < loop.time() - started < 2
    # Nothing leaked: both connections can be taken again at once.
    async with pool_of_two.acquire() as a, pool_of_two.acquire() as b:
        assert await a.fetchval("SELECT 1") == await b.fetchval("SELECT 1") == 1


async def test_a_cancelled_waiter_gives_up_its_turn(pool_of_two: Pool) -> None:
    async def take() -> int:
        async with pool_of_two.acquire() as conn:
            value: int = await conn.fetchval("SELECT 2")
            return value

    async with pool_of_two.acquire():
        async with pool_of_two.acquire():
            first = asyncio.create_task(take())
            second = asyncio.create_task(take())
            await asyncio.sleep(0.05)
            first.cancel()
        # One connection came free: the cancelled waiter must not have kept it.
        assert await asyncio.wait_for(second, 2) == 2
    with pytest.raises(asyncio.CancelledError):
        await first
    assert pool_of_two.gate.waiting == 0
