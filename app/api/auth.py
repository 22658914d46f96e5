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
    owner = rules.user_id(user_id)
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
