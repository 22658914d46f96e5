"""The feed's promise under concurrent writers: a reader paging by `next` sees every committed
event exactly once, positions ascending, while transactions stay open, commit out of order,
roll back, or die with their process.

Writers take no lock and wait for nobody: positions are given after commit, by the sequencer.
CI runs it briefly; the acceptance run of issue 11 is
`FEED_WRITERS=16 FEED_SECONDS=60 pytest -s tests/system/test_feed_promise.py`.
"""

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time

import asyncpg
import httpx
import pytest

from app.runtime.db import init_connection
from app.storage import event_store
from sql import queries
from tests.support.random_refs import random_user
from tests.support.seed import new_task, queue
from tests.support.servers import LiveServer

WRITERS = int(os.environ.get("FEED_WRITERS", "8"))
SECONDS = float(os.environ.get("FEED_SECONDS", "3"))

# A writer in a process of its own: it appends in an open transaction, says so, and waits
# to be killed (SIGKILL: no rollback is sent; the server finds the connection gone).
_DOOMED = """
import asyncio, sys
import asyncpg
from app.runtime.db import init_connection
from tests.support.seed import new_task, queue

async def main():
    conn = await asyncpg.connect(sys.argv[1])
    await init_connection(conn)
    async with conn.transaction():
        task = new_task(sys.argv[2])
        await queue(conn, task)
        print(task.id, flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


class RolledBack(Exception):
    """Raised on purpose inside a transaction to undo it."""


async def connected(url: str) -> asyncpg.Connection:
    """A writer's connection, its statement prepared: asyncpg looks the parameters' types up
    once per connection, which on a Citus coordinator's larger catalog takes a second or
    more, and the writers' clock must not start with it."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    await conn.prepare(queries("store")["append"])
    return conn


async def writer(
    conn: asyncpg.Connection, user: str, rng: random.Random, until: float
) -> list[str]:
    """Transactions of one or two creates that stay open a random while (now and then a long
    one) before they commit; a quarter roll back. The streams of those that committed."""
    committed: list[str] = []
    try:
        while time.monotonic() < until:
            appended = []
            try:
                async with conn.transaction():
                    await asyncio.sleep(rng.uniform(0, 0.01))
                    for _ in range(rng.randint(1, 2)):
                        task = new_task(user)
                        await queue(conn, task)
                        appended.append(str(task.id))
                    await asyncio.sleep(rng.choice((0.5, *[rng.uniform(0, 0.05)] * 19)))
                    if rng.random() < 0.25:
                        raise RolledBack()
            except RolledBack:
                continue
            committed.extend(appended)
    finally:
        await conn.close()
    return committed


async def killed_mid_transaction(url: str, user: str) -> str:
    """A writer process SIGKILLed while its transaction is open; the stream it appended to."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _DOOMED, url, user, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    stream = (await process.stdout.readline()).decode().strip()
    await asyncio.sleep(0.2)  # other writers commit around it meanwhile
    process.send_signal(signal.SIGKILL)
    await process.wait()
    return stream


async def read_page(client: httpx.AsyncClient, after: int) -> tuple[list[dict], int]:
    body = (await client.get(f"/api/events?after={after}&limit=3")).json()
    return body["events"], body["next"]


@pytest.mark.slow
async def test_a_paging_reader_sees_every_committed_event_once_while_writers_race(
    live_server: LiveServer, migrated_url: str, pool: asyncpg.Pool
) -> None:
    # A real server: the reader's requests and the writers' transactions truly interleave.
    users = [random_user("feed") for _ in range(WRITERS + 1)]
    async with pool.acquire() as conn:
        after = await event_store.head(conn)
    rng = random.Random()
    conns = [await connected(migrated_url) for _ in users[1:]]
    until = time.monotonic() + SECONDS
    writers = asyncio.gather(
        *(
            writer(c, u, random.Random(rng.random()), until)
            for c, u in zip(conns, users[1:], strict=True)
        ),
        killed_mid_transaction(migrated_url, users[0]),
    )
    seen: list[dict] = []
    pages_while_writing = 0
    async with live_server.client() as client:
        while not writers.done():
            page, after = await read_page(client, after)
            pages_while_writing += bool(page)
            seen.extend(page)
        while True:  # every writer has ended: catch up to the end
            page, after = await read_page(client, after)
            if not page:
                break
            seen.extend(page)
    *per_writer, killed = writers.result()
    committed = {stream for streams in per_writer for stream in streams}
    positions = [e["position"] for e in seen]
    mine = [e["stream_id"] for e in seen if e["user_id"] in users]
    skipped, duplicated = committed - set(mine), len(mine) - len(set(mine))
    out_of_order = sum(b <= a for a, b in itertools.pairwise(positions))
    print(
        f"\n{WRITERS} writers, {SECONDS:.0f} s: {len(committed)} committed, {len(seen)} read in"
        f" {pages_while_writing} pages while writing; skipped {len(skipped)},"
        f" duplicated {duplicated}, out of order {out_of_order}"
    )
    assert (len(skipped), duplicated, out_of_order) == (0, 0, 0)
    assert set(mine) == committed, "only committed events, none of the killed writer's"
    assert killed not in mine
    assert pages_while_writing > 0 and len(committed) > WRITERS
