"""The background sequencer: committed events get their positions within milliseconds.

Commands leave their events in pending_events; sequence_events (sql/functions/) moves them
into the log in commit order. A read that must include every acknowledged command
sequences first (app/storage/event_store.sequence); this loop, run by the leader, keeps
the log current for everyone else: the live stream, analysts, exports. It looks again
every few milliseconds while there is work, and backs off to `idle_pause` when there is
none, so a quiet deployment costs the database a handful of cheap queries a second.
"""

import asyncio
from dataclasses import dataclass

import asyncpg

from app.storage import event_store

# After a move, the next look: long enough for the commands of a busy moment to gather
# into one move, short enough to keep the live stream a few milliseconds behind.
BUSY_PAUSE = 0.002


@dataclass
class SequencerStats:
    """What this process's sequencer did, for /metrics."""

    moves: int = 0
    events: int = 0


async def run_sequencer(
    conn: asyncpg.Connection, stats: SequencerStats, *, idle_pause: float
) -> None:
    """Sequence on this connection until cancelled; raises when the connection fails."""
    pause = BUSY_PAUSE
    while True:
        # Never queue behind a reader's move (-1): that one does this loop's work meanwhile.
        moved = await event_store.sequence(conn, wait=False)
        if moved > 0:
            stats.moves += 1
            stats.events += moved
        pause = BUSY_PAUSE if moved != 0 else min(pause * 2, idle_pause)
        await asyncio.sleep(pause)
