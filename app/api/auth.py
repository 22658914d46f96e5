"""The API's side of bearer tokens: the Authorization header, the guards, and whose tasks a
request may touch. 401 for no valid token, 403 for someone else's tasks or a missing role."""

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from app.api.params import UserId
from app.api.problems import ProblemError
from app.tokens import AUDITOR, Claims, TokenRejected
from events import rules

# A token is a few hundred characters; anything far longer is not one of ours.
MAX_TOKEN_CHARS = 4096


def unauthorized(detail: str, *, token_given: bool = True) -> ProblemError:
    # RFC 6750 3: name the scheme, and say when a token was sent but refused.
    challenge = 'Bearer error="invalid_token"' if token_given else "Bearer"
    return ProblemError(401, detail, headers={"WWW-Authenticate": challenge})


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise unauthorized("Send a bearer token: Authorization: Bearer <token>.", token_given=False)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise unauthorized("The Authorization header must be: Bearer <token>.")
    return token


def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Claims | None:
    """The verified claims of the request's bearer token (401 if there is none that is valid),
    or None when authentication is switched off."""
    auth = connection.app.state.auth
    if auth is None:
        return None
    try:
        claims: Claims = auth.claims(_bearer(connection.headers.get("authorization")))
    except TokenRejected as exc:
        raise unauthorized(str(exc)) from None
    return claims


# Guards are coroutines: Litestar runs a plain-function guard in a worker thread, and the hand
# over to the thread and back cost about a fifth of a toggle's server CPU (bench/REPORT.md).

# Where require_token leaves the user it settled for the handler, in the request's scope state.
OWNER = "owner"


async def require_token(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard on every /api route, the router's, so it runs before any route's own guard (the
    body's included): a valid token (401), then the user whose tasks the path names, who
    must be the one the token names (400 for a malformed user id, 403 for another user's),
    kept in the request's state for the handler.

    The one place the caller's identity is settled. A guard rather than a dependency:
    Litestar resolves a route's dependencies in a task group, a task each, and that
    machinery cost more per request than the check itself (bench/REPORT.md).
    """
    claims = authenticate(connection)
    user_id = connection.path_params.get("user_id")
    if user_id is None:
        return
    owner = rules.user_id(user_id)
    if claims is not None and claims.sub != owner:
        raise ProblemError(
            403, "The token is for another user; a user may only use their own tasks."
        )
    connection.scope["state"][OWNER] = owner


def owner_of(request: Request[Any, Any, Any]) -> str:
    """The user require_token settled for this request."""
    owner: str = request.scope["state"][OWNER]
    return owner


def provide_owner(request: Request[Any, Any, Any], user_id: FromPath[UserId]) -> str:
    """As a dependency, for the routes that are not hot (audit): settled by the guard."""
    return owner_of(request)


async def require_auditor(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for every user's events (the global feed and stream): a token with role auditor."""
    claims = authenticate(connection)
    if claims is not None and AUDITOR not in claims.roles:
        raise ProblemError(403, f"Reading every user's events needs the role {AUDITOR}.")
