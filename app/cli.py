"""The `tasks` command line."""

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from app import analytics_cli
from app.settings import Settings

log = logging.getLogger("tasks")


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database, or an embedded one started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    from app.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def _signing_secret(settings: Settings) -> str | None:
    """The token secret, or None (after saying why) when there is none to be had."""
    from app.auth import AuthConfigError, current_secret

    try:
        return current_secret(settings)
    except AuthConfigError as exc:
        print(f"tasks: {exc}", file=sys.stderr)
        return None


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if not settings.auth_disabled:
        secret = _signing_secret(settings)
        if secret is None:
            return 2
        # Workers are separate processes: they find the secret, like the database, in the
        # environment (an embedded database's secret lives in its data folder).
        os.environ["TASKS_AUTH_SECRET"] = secret
    # uvicorn re-raises SIGTERM once it has shut down; by default that would end the process
    # before the embedded PostgreSQL below is stopped. Exit normally instead.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with database_url(settings) as url:
        os.environ["DATABASE_URL"] = url
        log.info("serving on http://%s:%d with %d worker(s)", host, port, workers)
        if not settings.auth_disabled:
            log.info("requests need a bearer token: `tasks token alice` prints one for alice")
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            access_log=False,
            proxy_headers=False,
            # Event streams never finish on their own: cut them so a stop cannot hang.
            # Their clients reconnect with Last-Event-ID and lose nothing.
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )
    return 0


def migrate(_: argparse.Namespace, settings: Settings) -> int:
    from app.db import migrate_url

    with database_url(settings) as url:
        applied = asyncio.run(migrate_url(url))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def token(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth import mint
    from app.validate import USER_ID

    if not USER_ID.fullmatch(args.user):
        print("tasks: USER must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -", file=sys.stderr)
        return 2
    secret = _signing_secret(settings)
    if secret is None:
        return 2
    print(mint(secret, args.user, args.role, args.ttl))
    return 0


_ROLE = re.compile(r"[a-z0-9_-]{1,32}")
_MAX_TTL = 366 * 24 * 3600


def _role(value: str) -> str:
    if not _ROLE.fullmatch(value):
        raise argparse.ArgumentTypeError("a role is 1 to 32 of a-z 0-9 _ -")
    return value


def _ttl(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= _MAX_TTL:
        raise argparse.ArgumentTypeError(f"seconds, 1 to {_MAX_TTL}")
    return int(value)


def on_database(
    command: Callable[[argparse.Namespace, str], Coroutine[Any, Any, int]],
) -> Callable[[argparse.Namespace, Settings], int]:
    """Run an async command against the configured database (or an embedded one)."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        with database_url(settings) as url:
            return asyncio.run(command(args, url))

    return run


def rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from app.replay import run_rebuild

    with database_url(settings) as url:
        return run_rebuild(url, batch_size=args.batch_size, restart=args.restart)


def verify(args: argparse.Namespace, settings: Settings) -> int:
    from app.replay import run_verify

    with database_url(settings) as url:
        return run_verify(url, batch_size=args.batch_size, limit=args.limit)


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("between 1 and 1,000,000")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tasks", description="The event-sourced task service.")
    sub = parser.add_subparsers(dest="command", required=True)
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
        "--role", action="append", default=[], type=_role, help="a role, e.g. auditor (repeatable)"
    )
    p.add_argument(
        "--ttl", type=_ttl, default=3600, help="seconds until the token expires (default 3600)"
    )
    p.set_defaults(run=token)
    analytics_cli.add_commands(sub, on_database)
    p = sub.add_parser(
        "rebuild", help="replay the log into a fresh read table and swap it in, while serving"
    )
    p.add_argument("--restart", action="store_true", help="ignore a checkpoint; start over")
    p.add_argument("--batch-size", type=_count, default=50_000, help="events per read")
    p.set_defaults(run=rebuild)
    p = sub.add_parser("verify", help="compare the read table with the fold of the log")
    p.add_argument("--batch-size", type=_count, default=50_000, help="events per read")
    p.add_argument("--limit", type=_count, default=1000, help="differences reported in full")
    p.set_defaults(run=verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    return run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
