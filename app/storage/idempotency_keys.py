"""Idempotency records: the first answer to a command sent with a key, kept for its retries."""

from typing import Any

import asyncpg
import msgspec

from sql import queries

_SQL = queries("idempotency")
# How many expired keys one purge deletes at most.
PURGE_BATCH = 10_000
# The constraint remember_idempotency_key names when a fresh record of the key exists, and
# its message: Citus passes a worker's error on without the constraint's name (a command runs
# on the worker that holds the user's shard), so there the message is what tells.
KEY_CONSTRAINT = "idempotency_keys_pkey"
KEY_MESSAGE = "idempotency key already used"


class KeyAlreadyUsed(Exception):
    """The command's idempotency key is already recorded (and fresh): replay, do not redo."""


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A command sent with an idempotency key: the answer its retries get back (as bytes, so a
    replay is byte for byte the first), the hash of the request a retry must match, and how
    long the key stays fresh."""

    key: str
    request_hash: bytes
    status: int
    headers: dict[str, str]
    body: bytes
    ttl_seconds: float

    def params(self) -> tuple[Any, ...]:
        """The trailing parameters of append_task_events and remember_idempotency_key."""
        return (
            self.key,
            self.request_hash,
            self.status,
            self.headers,
            self.body,
            self.ttl_seconds,
        )


def is_key_used(exc: asyncpg.UniqueViolationError) -> bool:
    """Whether a unique violation says the key is taken (not some other constraint)."""
    if exc.constraint_name is not None:
        return bool(exc.constraint_name == KEY_CONSTRAINT)
    return str(exc) == KEY_MESSAGE


async def recall(
    conn: asyncpg.Connection, user_id: str, key: str, ttl_seconds: float
) -> IdempotencyRecord | None:
    """The record of the user's key, unless there is none or it has expired."""
    row = await conn.fetchrow(_SQL["recall"], user_id, key, ttl_seconds)
    if row is None:
        return None
    return IdempotencyRecord(key=key, ttl_seconds=ttl_seconds, **row)


async def remember(conn: asyncpg.Connection, user_id: str, record: IdempotencyRecord) -> None:
    """Record a key for a command that appended nothing (a PUT that changed nothing)."""
    try:
        await conn.execute(_SQL["remember"], user_id, *record.params())
    except asyncpg.UniqueViolationError as exc:
        if not is_key_used(exc):
            raise
        raise KeyAlreadyUsed() from exc


async def forget_user(conn: asyncpg.Connection, user_id: str) -> None:
    """Erasure: the user's stored answers quote titles and descriptions."""
    await conn.execute(_SQL["forget_user"], user_id)


async def purge_expired(pool: asyncpg.Pool, ttl_seconds: float) -> int:
    """Delete expired keys (a batch at most); return how many went."""
    async with pool.acquire() as conn:
        status = await conn.execute(_SQL["purge"], ttl_seconds, PURGE_BATCH)
    return int(status.split()[-1])


async def purge_all_expired(pool: asyncpg.Pool, ttl_seconds: float) -> None:
    """Expired keys are ignored anyway; deleting them keeps the table small. A leader job."""
    while await purge_expired(pool, ttl_seconds) == PURGE_BATCH:
        pass
