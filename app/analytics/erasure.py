"""Erasure on request: `tasks users erase USER` (the SQL function erase_user does the work)."""

from dataclasses import dataclass

import asyncpg

from app.storage import event_store
from app.storage.idempotency_keys import forget_user
from sql import queries

_SQL = queries("analytics")


@dataclass(frozen=True, slots=True)
class Erasure:
    position: int  # of the UserErased event
    events_redacted: int
    tasks_redacted: int


class UnknownUser(Exception):
    """The log holds no event of this user: nothing to erase (a typo, most likely)."""


async def erase_user(
    conn: asyncpg.Connection, user_id: str, erased_by: str, request_id: str | None = None
) -> Erasure:
    """Erase the user's titles, descriptions and actor from the log and the read table.

    One transaction: the log and read table (erase_user, which records a UserErased event,
    whose figures this returns) and the user's idempotency records, whose stored responses
    quote titles and descriptions.
    """
    if not await conn.fetchval(_SQL["user_has_events"], user_id):
        raise UnknownUser(user_id)
    async with conn.transaction():
        row = await conn.fetchrow(_SQL["erase_user"], user_id, erased_by, request_id)
        await forget_user(conn, user_id)
    # Its events are in the log; on Citus they become visible to the feeds in a transaction
    # after the one that moved them (sql/citus/functions/sequence_log.sql): make it so now.
    await event_store.sequence(conn)
    return Erasure(row["erasure_position"], row["events_redacted"], row["tasks_redacted"])
