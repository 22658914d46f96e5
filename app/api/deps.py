"""Dependencies every route shares: the pool, where a query reads, who is asking (app/api/auth.py),
what to record about the request; and the guard that a body is JSON."""

from typing import Annotated, Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import HeaderParameter

from app.api import bodies
from app.api.auth import provide_owner
from app.api.problems import ProblemError, bad_input
from app.runtime.db import read
from app.runtime.replicas import UnknownToken, commit_position, parse_lsn
from app.storage import event_store


def provide_pool(state: State) -> asyncpg.Pool:
    return state.pool


ConsistencyToken = Annotated[
    str | None,
    HeaderParameter(
        name="X-Consistency-Token",
        max_length=40,
        description="From a command's response: read no older than that command",
    ),
]


async def provide_reader(state: State, token: ConsistencyToken = None) -> asyncpg.Pool:
    """Where a query reads: a replica that has caught up with the caller's token, or the primary."""
    if state.replicas is None:
        return state.pool
    try:
        return await state.replicas.reader(token)
    except UnknownToken:
        raise _unknown_token() from None


def _unknown_token() -> ProblemError:
    return bad_input("X-Consistency-Token", "not a token this service handed out")


class LogReader:
    """Where a read of the log goes, once every event acknowledged so far has its position.

    A command's events get their positions after its commit; a read of the log that must
    include them sequences first (on the primary). With replicas and a token, the read
    waits for a replica that has replayed that sequencing too (a token taken after it).
    Called from the handler, not resolved as a dependency: dependencies are resolved side
    by side, and one refused (401, 403) cancels the others, a query mid-way included.
    """

    def __init__(self, state: State, token: str | None) -> None:
        self._state, self._token = state, token

    async def current(self) -> asyncpg.Pool:
        state, token = self._state, self._token
        if token is not None and state.replicas is not None:
            try:
                parse_lsn(token)  # a malformed token is a 400, as on any query
            except UnknownToken:
                raise _unknown_token() from None
        await read(state.pool, lambda conn: event_store.sequence(conn))
        if state.replicas is None:
            return state.pool
        if token is not None:
            token = await commit_position(state.pool)
        return await state.replicas.reader(token)


def provide_log(state: State, token: ConsistencyToken = None) -> LogReader:
    return LogReader(state, token)


def request_metadata(request: Request[Any, Any, Any], owner: str) -> dict[str, Any]:
    """What every event records about the request that caused it."""
    return {"request_id": request.scope["state"].get("request_id"), "actor": owner}


class TaskRequest(Request[Any, Any, Any]):
    """Litestar's request, with a handler's body decoded strictly (app/api/bodies.py) and every
    undecodable JSON body a 400: msgspec raises plain UnicodeDecodeError for bytes that are not
    UTF-8 and RecursionError for nesting deeper than it can follow, which Litestar would
    otherwise pass on as 500s."""

    async def json(self) -> Any:
        try:
            if (struct := bodies.body_type(self.route_handler)) is not None:
                return bodies.decode(await self.body(), struct)
            return await super().json()
        except UnicodeDecodeError:
            raise bad_input("body", "is not UTF-8") from None
        except RecursionError:
            raise bad_input("body", "is nested too deeply") from None


_JSON_TYPES = ("application/json",)


async def require_json_body(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: a body that says it is not JSON gets 415 before anything reads it; no body, 400."""
    content_type = connection.headers.get("content-type")
    if content_type is not None:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
            raise ProblemError(415, "Send the body as JSON, with Content-Type: application/json.")
    struct = bodies.body_type(handler)
    if struct is not None and isinstance(connection, Request):
        bodies.require(await connection.body(), struct)


DEPENDENCIES = {
    "pool": Provide(provide_pool, sync_to_thread=False),
    "owner": Provide(provide_owner, sync_to_thread=False),
    "reader": Provide(provide_reader),
    "log": Provide(provide_log, sync_to_thread=False),
}
