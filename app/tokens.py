"""Bearer tokens: HS256 JWTs (pyjwt) naming the user (`sub`) and their `roles`: minted by
`tasks token`, verified by the API's guard (app/api/auth.py). No HTTP here."""

import logging
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

import jwt
import msgspec

from app.settings import MIN_SECRET_CHARS, Settings

log = logging.getLogger("tasks.auth")

ALGORITHM = "HS256"
AUDITOR = "auditor"
# Every role a token can carry that means something to this service.
ROLES = (AUDITOR,)
SECRET_FILE = "auth-secret"
# Clock skew tolerated between whoever minted a token and this server.
LEEWAY_SECONDS = 10
DEFAULT_TTL_SECONDS = 3600
VERIFIED_CACHE_SIZE = 10_000


class AuthConfigError(RuntimeError):
    """Authentication is on but no secret can be found."""


class Claims(msgspec.Struct, frozen=True):
    sub: str
    exp: float
    roles: tuple[str, ...] = ()


class TokenRejected(Exception):
    """A token that is expired, malformed, wrongly signed, or has bad claims; says which."""


class Authenticator:
    """Verifies tokens with the current secret, and while rotating also with the previous one.

    A client sends the same token with every request until it expires: checking its
    signature again each time cost about 23 µs of a request's 300-odd, so tokens that
    passed are remembered (by their exact text, until their exp) in a bounded cache.
    """

    def __init__(self, keys: Sequence[str], leeway: float = LEEWAY_SECONDS) -> None:
        self._keys = list(keys)
        self._leeway = leeway
        self._verified: dict[str, Claims] = {}

    def claims(self, token: str) -> Claims:
        """The token's verified claims; TokenRejected if it is not a valid token of ours."""
        known = self._verified.get(token)
        if known is not None and time.time() <= known.exp + self._leeway:
            return known
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> Claims:
        for key in self._keys:
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    options={"require": ["exp", "sub"]},
                    leeway=self._leeway,
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise TokenRejected("The token has expired.") from None
            except jwt.MissingRequiredClaimError as exc:
                raise TokenRejected(
                    f"The token has no `{exc.claim}` claim; every token needs `sub` and `exp`."
                ) from None
            except jwt.InvalidTokenError:
                raise TokenRejected("The token is not valid.") from None
            try:
                return msgspec.convert(payload, Claims)
            except msgspec.ValidationError:
                raise TokenRejected("The token's sub or roles claim is not valid.") from None
        # Safe to say: it tells a caller nothing about the secret, and it is the usual cause
        # (a token made with another TASKS_AUTH_SECRET, or another data folder's secret).
        raise TokenRejected(
            "The token's signature does not match this server's secret: it was signed with"
            " another one (see docs/security.md, the secret)."
        )

    def mint(self, user: str, roles: Sequence[str] = (), ttl: int = DEFAULT_TTL_SECONDS) -> str:
        return mint(self._keys[0], user, roles, ttl)


def mint(secret: str, user: str, roles: Sequence[str] = (), ttl: int = DEFAULT_TTL_SECONDS) -> str:
    now = int(time.time())
    claims = {"sub": user, "roles": list(roles), "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def authenticator(settings: Settings) -> Authenticator | None:
    """The token checker the settings ask for, or None when authentication is switched off."""
    if settings.auth_disabled:
        return None
    keys = [current_secret(settings)]
    if settings.auth_previous_secret:
        keys.append(settings.auth_previous_secret.get_secret_value())
    return Authenticator(keys)


def current_secret(settings: Settings, *, create: bool = True) -> str:
    """The signing secret: configured, or with the embedded database kept in its data folder
    (made there the first time, unless create is false)."""
    if settings.auth_secret:
        return settings.auth_secret.get_secret_value()
    if settings.database_url is None:
        return data_folder_secret(settings.data_dir, create=create)
    raise AuthConfigError(
        "Authentication is on but TASKS_AUTH_SECRET is not set: set it to a random string of"
        f" at least {MIN_SECRET_CHARS} characters (or TASKS_AUTH_DISABLED=true for local use)."
    )


def data_folder_secret(data_dir: Path, *, create: bool = True) -> str:
    """Read the data folder's secret, creating it (mode 0600) the first time if asked to."""
    path = data_dir / SECRET_FILE
    if not path.exists() and not create:
        # `tasks token` must not make a secret the service does not have: its tokens would
        # all get 401. Only `tasks serve` makes one.
        raise AuthConfigError(
            f"no token secret in {data_dir}: `tasks serve` makes one when it first starts on"
            " that folder. Start it first, or set TASKS_DATA_DIR to the folder it uses (or"
            " TASKS_AUTH_SECRET to its secret)."
        )
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a process starting at the same moment
        # sees either no file or the whole secret, and both end up with the same one.
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
            log.info("generated a new token signing secret in %s", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    elif path.stat().st_mode & 0o077:
        log.warning("%s was readable by other users; made it 0600", path)
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()
