"""Bearer tokens for tests: the suite's secret, and an httpx auth that signs by the URL's path."""

import time
from collections.abc import Generator, Sequence

import httpx
import jwt

from app.tokens import mint

# The secret every test app and live server is started with (auth stays on in tests).
SECRET = "test-only-secret-" + "s" * 32
AUDITOR_USER = "auditor-of-tests"


def token(user: str, roles: Sequence[str] = (), ttl: int = 600, secret: str = SECRET) -> str:
    return mint(secret, user, roles, ttl)


def bearer(user: str, roles: Sequence[str] = (), **kwargs: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user, roles, **kwargs)}"}  # type: ignore[arg-type]


def expired(user: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now - 7200, "exp": now - 3600}, SECRET, "HS256")


def caller_for(path: str) -> tuple[str, list[str]] | None:
    """Who a test means to be, read from the path: /api/{user}/... or the global /api/events."""
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "api":
        return None
    if parts[2] == "events" and (len(parts) == 3 or parts[3] == "stream"):
        return AUDITOR_USER, ["auditor"]
    return parts[2], []


class SignByPath(httpx.Auth):
    """Adds a valid token for the user the path names, unless the test sent its own header."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        caller = caller_for(request.url.path)
        if caller and "authorization" not in request.headers:
            user, roles = caller
            request.headers["Authorization"] = f"Bearer {token(user, roles, secret=self.secret)}"
        yield request


# Signed with a secret the tests' servers do not know.
OTHER_SECRET = "another-secret-that-is-long-enough-" + "o" * 10


def bad_tokens(user: str) -> dict[str, dict[str, str]]:
    """Authorization headers that must all get 401, by what is wrong with them."""
    now = int(time.time())
    return {
        "missing": {},
        "empty": {"Authorization": ""},
        "not bearer": {"Authorization": f"Basic {token(user)}"},
        "bearer without token": {"Authorization": "Bearer "},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "huge": {"Authorization": "Bearer " + "a" * 5000},
        "expired": {"Authorization": f"Bearer {expired(user)}"},
        "wrongly signed": {"Authorization": f"Bearer {token(user, secret=OTHER_SECRET)}"},
        "no exp": {"Authorization": "Bearer " + jwt.encode({"sub": user}, SECRET, "HS256")},
        "alg none": {
            "Authorization": "Bearer "
            + jwt.encode({"sub": user, "exp": now + 60}, None, algorithm="none")
        },
        "sub not a string": {
            "Authorization": "Bearer " + jwt.encode({"sub": 7, "exp": now + 60}, SECRET, "HS256")
        },
        "roles not a list": {
            "Authorization": "Bearer "
            + jwt.encode({"sub": user, "exp": now + 60, "roles": "auditor"}, SECRET, "HS256")
        },
    }
