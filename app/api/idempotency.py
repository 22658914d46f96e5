"""Idempotency-Key, the HTTP side: the header, the request's hash, a stored answer replayed as a
response. The records themselves are storage's (app/storage/idempotency_keys.py)."""

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from app.api.problems import ProblemError
from app.runtime.db import read
from app.storage.idempotency_keys import IdempotencyRecord, recall
from events.state import Task

KEY_HEADER = "Idempotency-Key"

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

    def record(self, reply: Reply) -> IdempotencyRecord:
        return IdempotencyRecord(
            key=self.key,
            request_hash=self.request_hash,
            status=reply.status,
            headers=reply.headers,
            body=reply.body,
            ttl_seconds=self.ttl_seconds,
        )

    def records(self, respond: Callable[[Task], Reply]) -> Callable[[Task], IdempotencyRecord]:
        return lambda task: self.record(respond(task))


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
    stored = await read(pool, lambda conn: recall(conn, owner, pending.key, pending.ttl_seconds))
    if stored is None:
        return None
    if stored.request_hash != pending.request_hash:
        raise ProblemError(
            422,
            f"This {KEY_HEADER} was used for a different request; send a new key with a new"
            " request.",
        )
    return Reply(stored.status, stored.headers, stored.body).response(replayed=True)
