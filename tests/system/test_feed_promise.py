"""The feed's promise under concurrent writers: a reader paging by `next` sees every committed
event exactly once, positions ascending, while transactions commit out of order or roll back."""

import asyncio
import random

import asyncpg
import httpx
import pytest

from app.runtime.db import init_connection
from app.storage import event_store
from tests.support.random_refs import random_user
from tests.support.seed import append_one
from tests.support.servers import LiveServer

WRITERS = 8
TRANSACTIONS = 6


class RolledBack(Exception):
    """Raised on purpose inside a transaction to undo it."""


async def writer(url: str, user: str, rng: random.Random) -> list[tuple[int, str]]:
    """Explicit transactions that stay open a random while after appending; some roll back."""
    committed: list[tuple[int, str]] = []
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        for _ in range(TRANSACTIONS):
            appended = []
            try:
                async with conn.transaction():
                    await asyncio.sleep(rng.uniform(0, 0.01))
                    for _ in range(rng.randint(1, 2)):
                        appended.append(await append_one(conn, user))
                    await asyncio.sleep(rng.uniform(0, 0.05))
                    if rng.random() < 0.25:
                        raise RolledBack()
            except RolledBack:
                continue
            committed.extend(appended)
    finally:
        await conn.close()
    return committed


async def read_page(client: httpx.AsyncClient, after: int) -> tuple[list[dict], int]:
    body = (await client.get(f"/api/events?after={after}&limit=3")).json()
    return body["events"], body["next"]


@pytest.mark.slow
async def test_a_paging_reader_sees_every_committed_event_once_while_writers_race(
    live_server: LiveServer, migrated_url: str, pool: asyncpg.Pool
) -> None:
    # A real server: the reader's requests and the writers' transactions truly interleave.
    users = [random_user("feed") for _ in range(WRITERS)]
    async with pool.acquire() as conn:
        after = await event_store.head(conn)
    rng = random.Random()
    writers = asyncio.gather(*(writer(migrated_url, u, random.Random(rng.random())) for u in users))
    seen: list[dict] = []
    pages_while_writing = 0
    async with live_server.client() as client:
        while not writers.done():
            page, after = await read_page(client, after)
            pages_while_writing += bool(page)
            seen.extend(page)
        while True:  # every writer has committed: catch up to the end
            page, after = await read_page(client, after)
            if not page:
                break
            seen.extend(page)
    committed = [entry for per_writer in writers.result() for entry in per_writer]
    positions = [e["position"] for e in seen]
    assert positions == sorted(set(positions)), "positions ascending, none twice"
    mine = [(e["position"], e["stream_id"]) for e in seen if e["user_id"] in users]
    missing = len(set(committed) - set(mine))
    assert mine == sorted(committed), f"{missing} of {len(committed)} committed events missed"
    assert pages_while_writing > 0 and len(committed) > WRITERS
