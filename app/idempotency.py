"""Idempotency-Key: a retried command gets its first response back instead of a second effect."""

import hashlib
import logging
from collections.abc import Callable
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from app.db import read
from app.problems import ProblemError
from events.state import Task
from events.store import KEY_CONSTRAINT, KeyAlreadyUsed, Receipt
from sql import queries

log = logging.getLogger("tasks.idempotency")
_SQL = queries("idempotency")

KEY_HEADER = "Idempotency-Key"
# How many expired keys one purge deletes at most.
PURGE_BATCH = 10_000

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=KEY_HEADER,
        min_length=1,
        max_length=255,
        description="Any 1 to 255 characters, new for each new request: a retry with the same"
        " key and body gets the first response back and changes nothing.",
    ),
]


class Reply(msgspec.Struct, frozen=True):
    """A command's response as bytes, so a replay is byte for byte the first answer."""

    status: int
    headers: dict[str, str]
    body: bytes = b""

    def response(self, *, replayed: bool = False) -> Response[Any]:
        headers = {**self.headers, "Idempotent-Replayed": "true"} if replayed else self.headers
        media_type = "application/json" if self.body else None
        return Response(self.body, status_code=self.status, headers=headers, media_type=media_type)


class Pending(msgspec.Struct, frozen=True):
    """An idempotency key, with the hash of the request it came with."""

    key: str
    request_hash: bytes
    ttl_seconds: float

    def receipt(self, reply: Reply) -> Receipt:
        return Receipt(
            key=self.key,
            request_hash=self.request_hash,
            status=reply.status,
            headers=reply.headers,
            body=reply.body,
            ttl_seconds=self.ttl_seconds,
        )

    def receipts(self, respond: Callable[[Task], Reply]) -> Callable[[Task], Receipt]:
        return lambda task: self.receipt(respond(task))


async def pending(request: Request[Any, Any, Any], key: str | None) -> Pending | None:
    """The request's key and the hash of what it asks (method, path, body), if it has a key."""
    if key is None:
        return None
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.scope["path"].encode(), await request.body()):
        digest.update(len(part).to_bytes(8, "big") + part)
    ttl = request.app.state.settings.idempotency_ttl_seconds
    return Pending(key, digest.digest(), ttl)


async def replay(pool: asyncpg.Pool, owner: str, pending: Pending) -> Response[Any] | None:
    """The stored response for this key, 422 if the key came with another request, else None."""
    row = await read(
        pool, lambda conn: conn.fetchrow(_SQL["recall"], owner, pending.key, pending.ttl_seconds)
    )
    if row is None:
        return None
    if row["request_hash"] != pending.request_hash:
        raise ProblemError(
            422,
            f"This {KEY_HEADER} was used for a different request; send a new key with a new"
            " request.",
        )
    return Reply(row["status"], row["headers"], row["body"]).response(replayed=True)


async def remember(conn: asyncpg.Connection, owner: str, receipt: Receipt) -> None:
    """Record a key for a command that appended nothing (a PUT that changed nothing)."""
    try:
        await conn.execute(_SQL["remember"], owner, *receipt.params())
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != KEY_CONSTRAINT:
            raise
        raise KeyAlreadyUsed() from exc


async def purge_expired(pool: asyncpg.Pool, ttl_seconds: float) -> int:
    """Delete expired keys (a batch at most); return how many went."""
    async with pool.acquire() as conn:
        status = await conn.execute(_SQL["purge"], ttl_seconds, PURGE_BATCH)
    return int(status.split()[-1])


async def purge_all_expired(pool: asyncpg.Pool, ttl_seconds: float) -> None:
    """Expired keys are ignored anyway; deleting them keeps the table small. A leader job."""
    while await purge_expired(pool, ttl_seconds) == PURGE_BATCH:
        pass
