"""The `tasks` command line."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    with database_url(settings) as url:
        # Workers are separate processes: they find the database through the environment.
        os.environ["DATABASE_URL"] = url
        log.info("serving on http://%s:%d with %d worker(s)", host, port, workers)
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            access_log=False,
            proxy_headers=False,
        )
    return 0


def migrate(_: argparse.Namespace, settings: Settings) -> int:
    from app.db import migrate_url

    with database_url(settings) as url:
        applied = asyncio.run(migrate_url(url))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


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
