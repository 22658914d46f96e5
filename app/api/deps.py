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

from app.api.auth import provide_owner
from app.api.problems import ProblemError, bad_input
from app.runtime.replicas import UnknownToken


def provide_pool(state: State) -> asyncpg.Pool:
    return state.pool


async def provide_reader(
    state: State,
    token: Annotated[
        str | None,
        HeaderParameter(
            name="X-Consistency-Token",
            max_length=40,
            description="From a command's response: read no older than that command",
        ),
    ] = None,
) -> asyncpg.Pool:
    """Where a query reads: a replica that has caught up with the caller's token, or the primary."""
    if state.replicas is None:
        return state.pool
    try:
        return await state.replicas.reader(token)
    except UnknownToken:
        raise bad_input("X-Consistency-Token", "not a token this service handed out") from None


def request_metadata(request: Request[Any, Any, Any], owner: str) -> dict[str, Any]:
    """What every event records about the request that caused it."""
    return {"request_id": request.scope["state"].get("request_id"), "actor": owner}


class TaskRequest(Request[Any, Any, Any]):
    """Litestar's request, with every undecodable JSON body a 400: msgspec raises plain
    UnicodeDecodeError for bytes that are not UTF-8 and RecursionError for nesting deeper
    than it can follow, which Litestar would otherwise pass on as 500s."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise bad_input("body", "is not UTF-8") from None
        except RecursionError:
            raise bad_input("body", "is nested too deeply") from None


_JSON_TYPES = ("application/json",)


async def require_json_body(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: a body that says it is not JSON gets 415 before anything reads it."""
    content_type = connection.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise ProblemError(415, "Send the body as JSON, with Content-Type: application/json.")


DEPENDENCIES = {
    "pool": Provide(provide_pool, sync_to_thread=False),
    "owner": Provide(provide_owner, sync_to_thread=False),
    "reader": Provide(provide_reader),
}
