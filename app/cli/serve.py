"""`tasks serve`, `tasks migrate` and `tasks token`."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from types import FrameType

from app import logs
from app.cli.database import database_url
from app.settings import Settings

log = logging.getLogger("tasks")


def _signing_secret(settings: Settings, *, create: bool) -> str | None:
    """The token secret, or None (after saying why) when there is none to be had."""
    from app.tokens import AuthConfigError, current_secret

    try:
        return current_secret(settings, create=create)
    except AuthConfigError as exc:
        print(f"tasks: {exc}", file=sys.stderr)
        return None


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _stop_on_hangup(signum: int, frame: FrameType | None) -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop, then _exit_on_sigterm


async def _reachable(url: str, seconds: float) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=seconds)
    await conn.close()


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if not settings.auth_disabled:
        secret = _signing_secret(settings, create=True)
        if secret is None:
            return 2
        # Workers are separate processes: they find the secret, like the database, in the
        # environment (an embedded database's secret lives in its data folder).
        os.environ["TASKS_AUTH_SECRET"] = secret
    # uvicorn re-raises SIGTERM once it has shut down; by default that would end the process
    # before the embedded PostgreSQL below is stopped. Exit normally instead. A closed
    # terminal (SIGHUP) stops the service the same way, PostgreSQL included.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _stop_on_hangup)
    with database_url(settings) as url:
        # Fail here, in one line (app/cli/__init__.py), not as a traceback from the app's
        # start-up after "serving on ..." was already said.
        asyncio.run(_reachable(url, settings.pool_acquire_timeout))
        os.environ["DATABASE_URL"] = url
        where = "" if settings.database_url else f", data in {settings.data_dir.resolve()}"
        log.info("serving on http://%s:%d with %d worker(s)%s", host, port, workers, where)
        if not settings.auth_disabled:
            log.info("requests need a bearer token: `tasks token alice` prints one for alice")
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            log_config=logs.uvicorn_config(settings.log_level),
            access_log=False,
            proxy_headers=False,
            # Event streams never finish on their own: cut them so a stop cannot hang.
            # Their clients reconnect with Last-Event-ID and lose nothing.
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )
    return 0


def migrate(_: argparse.Namespace, settings: Settings) -> int:
    from app.runtime.migrate import migrate_url

    with database_url(settings) as url:
        applied = asyncio.run(migrate_url(url))
    migrations = [name for name in applied if "/" not in name]
    print(
        f"applied {len(migrations)} migration(s)"
        + (f": {', '.join(migrations)}" if migrations else "")
    )
    if definitions := [name for name in applied if "/" in name]:
        print(
            f"applied {len(definitions)} function and view definition(s): {', '.join(definitions)}"
        )
    return 0


def token(args: argparse.Namespace, settings: Settings) -> int:
    from app.tokens import ROLES, mint
    from events.rules import USER_ID, USER_ID_RULE

    if not USER_ID.fullmatch(args.user):
        print(f"tasks: USER must be {USER_ID_RULE}", file=sys.stderr)
        return 2
    if unknown := [role for role in args.role if role not in ROLES]:
        print(f"tasks: no role {unknown[0]!r}; the roles are: {', '.join(ROLES)}", file=sys.stderr)
        return 2
    secret = _signing_secret(settings, create=False)
    if secret is None:
        return 2
    print(mint(secret, args.user, args.role, args.ttl))
    return 0


_MAX_TTL = 366 * 24 * 3600


def _ttl(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= _MAX_TTL:
        raise argparse.ArgumentTypeError(f"seconds, 1 to {_MAX_TTL}")
    return int(value)


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `serve`, `migrate` and `token` on the `tasks` parser."""
    p = sub.add_parser(
        "serve", help="run the service (embedded PostgreSQL if DATABASE_URL is unset)"
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--workers", type=int, help="worker processes (default 1)")
    p.set_defaults(run=serve)
    p = sub.add_parser("migrate", help="apply the SQL migrations in sql/")
    p.set_defaults(run=migrate)
    p = sub.add_parser("token", help="print a bearer token for USER, signed with the secret")
    p.add_argument("user", metavar="USER", help="the user id the token speaks for (its sub)")
    p.add_argument(
        "--role", action="append", default=[], help="a role the token carries: auditor (repeatable)"
    )
    p.add_argument(
        "--ttl", type=_ttl, default=3600, help="seconds until the token expires (default 3600)"
    )
    p.set_defaults(run=token)
