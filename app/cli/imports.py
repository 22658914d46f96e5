"""`tasks import-crud`: bring the CRUD service's tasks table into the log, with a progress bar."""

import argparse
import asyncio
import sys
import time
import uuid
from urllib.parse import urlsplit

import asyncpg

from app.cli.database import database_url
from app.cli.rebuild import NotMigrated, progress_bar
from app.runtime.db import init_connection
from app.runtime.migrate import pending_migrations
from app.settings import Settings
from app.storage.crud_import import (
    Outcome,
    SourceError,
    check_source,
    import_all,
    quoted_table,
)
from events.types import SCHEMA_VERSIONS

# Rows named in full when some are refused or conflict; the rest are counted.
_SHOWN = 10
_SETTINGS = {"application_name": "tasks import-crud", "statement_timeout": "0"}


def source_dsn(url: str) -> str:
    """The URL asyncpg takes: SQLAlchemy's `postgresql+asyncpg://` (the CRUD service's own
    setting) loses its driver suffix."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}" if sep else url


def _where(url: str) -> str:
    """The source's host and database, never its password, for messages."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"
    except ValueError:
        return "the source"


async def _connect_source(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(
            source_dsn(url),
            timeout=10,
            # Read only: the import never changes the old table. Times without a zone: UTC.
            server_settings={**_SETTINGS, "TimeZone": "UTC", "default_transaction_read_only": "on"},
        )
    except (TimeoutError, OSError, ValueError, asyncpg.PostgresError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"cannot read the source database {_where(url)}: {reason}") from None


async def _run(args: argparse.Namespace, target_url: str) -> Outcome:
    table = quoted_table(args.table)
    source = await _connect_source(args.source_url)
    try:
        rows = await check_source(source, table)
        target = await asyncpg.connect(target_url, server_settings=_SETTINGS)
        try:
            await init_connection(target)
            pending = await pending_migrations(target)
            if pending:
                raise NotMigrated(
                    f"migrations not applied ({', '.join(pending)}): run `tasks migrate`"
                )
            metadata = {
                "actor": "import-crud",
                "request_id": f"import-{uuid.uuid4()}",
                "source_table": args.table,
                "schema_version": SCHEMA_VERSIONS["TaskImported"],
            }
            with progress_bar("import", unit="rows") as bar:
                bar.grow(rows)
                return await import_all(
                    source,
                    target,
                    table,
                    bar,
                    metadata=metadata,
                    batch_size=args.batch_size,
                    dry_run=args.dry_run,
                )
        finally:
            await target.close()
    finally:
        await source.close()


def _name_some(what: str, rows: list[str]) -> None:
    for line in rows[:_SHOWN]:
        print(f"{what}: {line}", file=sys.stderr)
    if len(rows) > _SHOWN:
        print(f"{what}: ... and {len(rows) - _SHOWN:,} more", file=sys.stderr)


def summary(done: Outcome, seconds: float, *, dry_run: bool) -> str:
    rows = done.imported + done.existing + len(done.refused) + len(done.conflicts)
    verb = "would import" if dry_run else "imported"
    rate = f": {rows / seconds:,.0f} rows/s" if seconds > 0 and rows else ""
    return (
        f"{'dry run, nothing written: ' if dry_run else ''}{verb} {done.imported:,} tasks;"
        f" skipped {done.existing:,} already here, {len(done.conflicts):,} conflicting,"
        f" {len(done.refused):,} refused; {rows:,} rows read in {seconds:.1f} s{rate}"
    )


def import_crud_command(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    try:
        with database_url(settings) as url:
            done = asyncio.run(_run(args, url))
    except (SourceError, NotMigrated) as exc:
        print(f"tasks import-crud: {exc}", file=sys.stderr)
        return 2
    _name_some("refused", done.refused)
    _name_some("conflict", done.conflicts)
    print(summary(done, time.perf_counter() - started, dry_run=args.dry_run))
    return 1 if done.refused or done.conflicts else 0


def _batch(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 50_000:
        raise argparse.ArgumentTypeError("a whole number from 1 to 50,000")
    return int(value)


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `import-crud` on the `tasks` parser."""
    p = sub.add_parser(
        "import-crud",
        help="bring the CRUD service's tasks table into the log (rerunnable)",
        description="Reads the old CRUD service's tasks table (id, user_id, title, description,"
        " completed, created_at, updated_at) and brings every task in as one TaskImported event"
        " with the same id, fields and times. Rerunnable and resumable: tasks already here are"
        " skipped. Exit 0: all imported or already here; 1: some rows refused or conflicting"
        " (named on stderr); 2: cannot run. See docs/migrating.md.",
    )
    p.add_argument("source_url", metavar="SOURCE_URL", help="the old service's PostgreSQL URL")
    p.add_argument(
        "--table", default="tasks", help="the old table, optionally schema.table (default: tasks)"
    )
    p.add_argument(
        "--batch-size", type=_batch, default=5000, help="rows per transaction (default: 5000)"
    )
    p.add_argument("--dry-run", action="store_true", help="count what would happen; write nothing")
    p.set_defaults(run=import_crud_command)
