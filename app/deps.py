"""Dependencies every route shares: the pool, who is asking, what to record about the request."""

from typing import Annotated, Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, HeaderParameter

from app import validate
from app.problems import ProblemError


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
    return await state.replicas.reader(token)


def provide_owner(user_id: FromPath[str]) -> str:
    """The user whose tasks the path names. The one place the caller's identity is settled."""
    return validate.user_id(user_id)


def request_metadata(request: Request[Any, Any, Any], owner: str) -> dict[str, Any]:
    """What every event records about the request that caused it."""
    return {"request_id": request.scope["state"].get("request_id"), "actor": owner}


def require_auditor(_: ASGIConnection[Any, Any, Any, Any], __: BaseRouteHandler) -> None:
    """Guard for every user's events (the global feed and the live stream).

    DOES NOTHING YET: there is no authentication so far. Once tokens exist, this is
    where a caller without the role `auditor` gets 403; every handler that needs
    the role already names this guard.
    """


_JSON_TYPES = ("application/json",)


def require_json_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
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
