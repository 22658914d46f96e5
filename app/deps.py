"""Dependencies every route shares: the pool, who is asking, what to record about the request."""

from typing import Annotated, Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, HeaderParameter, Parameter

from app import validate
from app.auth import AUDITOR, Claims
from app.problems import ProblemError, bad_input


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


def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Claims | None:
    """The verified claims of the request's bearer token (401 if there is none that is valid),
    or None when authentication is switched off."""
    auth = connection.app.state.auth
    return None if auth is None else auth.claims(connection.headers.get("authorization"))


UserId = Annotated[
    str,
    Parameter(
        description="1 to 64 characters of A-Z a-z 0-9 . _ @ -",
        # Documented here, checked in validate.user_id (after authentication).
        schema_extra={"pattern": f"^{validate.USER_ID.pattern}$", "minLength": 1, "maxLength": 64},
    ),
]


# Guards are coroutines: Litestar runs a plain-function guard in a worker thread, and the hand
# over to the thread and back cost about a fifth of a toggle's server CPU (bench/REPORT.md).


async def require_token(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard on every /api route: a valid token before anything else, the body included, is
    looked at. provide_owner then settles whose tasks it may touch (the check is cached)."""
    authenticate(connection)


def provide_owner(request: Request[Any, Any, Any], user_id: FromPath[UserId]) -> str:
    """The user whose tasks the path names, who must be the one the bearer token names.

    The one place the caller's identity is settled: 401 without a valid token, 400 for a
    malformed user id, 403 for a token of another user.
    """
    claims = authenticate(request)
    owner = validate.user_id(user_id)
    if claims is not None and claims.sub != owner:
        raise ProblemError(
            403, "The token is for another user; a user may only use their own tasks."
        )
    return owner


async def require_auditor(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for every user's events (the global feed and stream): a token with role auditor."""
    claims = authenticate(connection)
    if claims is not None and AUDITOR not in claims.roles:
        raise ProblemError(403, f"Reading every user's events needs the role {AUDITOR}.")


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
