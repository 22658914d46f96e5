"""The analysts' commands: `tasks analyst-role`, `tasks events export`, `tasks users erase`."""

import argparse
import asyncio
import getpass
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from app.analytics.erasure import UnknownUser, erase_user
from app.analytics.export import FORMATS, Filters, export
from app.analytics.role import ensure_analyst_role
from app.cli.database import on_database
from events import rules
from events.types import EVENT_TYPES

_AT = " TIME: RFC 3339 (2026-11-26T16:00:00Z) or a date (2026-11-26); no zone means UTC"


def _time(value: str) -> datetime:
    """An RFC 3339 time or a date; without a zone it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time such as 2026-11-26T16:00:00Z or 2026-11-26"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _user(value: str) -> str:
    try:
        return rules.user_id(value)
    except rules.InvalidInput:
        raise argparse.ArgumentTypeError("a user id is 1 to 64 of A-Z a-z 0-9 . _ @ -") from None


def _position(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError("a position is a whole number, 0 or more")
    return int(value)


def _who(value: str) -> str:
    if not value.strip() or "\x00" in value:
        raise argparse.ArgumentTypeError("say who erases: a name, not blank")
    return value.strip()


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a whole number, 1 or more")
    return int(value)


async def analyst_role(args: argparse.Namespace, dsn: str) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            print("no password on standard input", file=sys.stderr)
            return 2
    conn = await asyncpg.connect(dsn)
    try:
        created = await ensure_analyst_role(conn, args.name, password)
    except (ValueError, asyncpg.PostgresError) as exc:
        print(f"tasks analyst-role: {exc}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print(f"{'created' if created else 'updated'} read-only role {args.name}")
    return 0


async def erase(args: argparse.Namespace, dsn: str) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            print("erasure cannot be undone: pass --yes to confirm", file=sys.stderr)
            return 2
        question = f"Erase the personal data of {args.user}? Type the user id: "
        if await asyncio.to_thread(input, question) != args.user:
            print("not confirmed; nothing erased", file=sys.stderr)
            return 1
    conn = await asyncpg.connect(dsn)
    try:
        done = await erase_user(conn, args.user, args.by, f"cli-{uuid.uuid4()}")
    except UnknownUser:
        print(f"no events of user {args.user}: nothing erased", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print(
        f"erased {args.user}: {done.events_redacted} event(s) and {done.tasks_redacted} "
        f"task(s) redacted, recorded as UserErased at position {done.position}"
    )
    return 0


def _progress() -> Progress:
    return Progress(
        "exporting",
        BarColumn(),
        MofNCompleteColumn(),
        "events",
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


async def export_events(args: argparse.Namespace, dsn: str) -> int:
    filters = Filters(args.after, args.since, args.until, args.type, args.user)
    if args.format == "parquet":
        if args.output is None:
            print("Parquet is written to a file: give -o FILE", file=sys.stderr)
            return 2
        try:
            import app.analytics.parquet  # noqa: F401
        except ImportError as exc:
            print(exc, file=sys.stderr)
            return 2
    if args.output is None:  # stdout: no progress bar, nothing but the data
        try:
            await export(
                dsn,
                args.format,
                filters,
                sys.stdout.buffer,
                connections=args.connections,
                batch_size=args.batch_size,
            )
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            return 1
        return 0
    return await _export_to_file(args, dsn, filters, Path(args.output))


async def _export_to_file(args: argparse.Namespace, dsn: str, filters: Filters, path: Path) -> int:
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    partial = path.with_name(path.name + ".partial")
    started = time.perf_counter()
    try:
        with _progress() as progress, partial.open("wb") as out:
            bar = progress.add_task("export", total=None)
            count = await export(
                dsn,
                args.format,
                filters,
                out,
                started=lambda total: progress.update(bar, total=total),
                done=lambda n: progress.advance(bar, n),
                connections=args.connections,
                batch_size=args.batch_size,
            )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    seconds = time.perf_counter() - started
    print(
        f"exported {count:,} events to {path} in {seconds:.2f} s "
        f"({count / seconds if seconds else 0:,.0f} events/s)",
        file=sys.stderr,
    )
    return 0


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the analysts' subcommands on the `tasks` parser."""
    p = sub.add_parser("analyst-role", help="create or update a read-only role for analysts")
    p.add_argument("name", help="the role (a-z 0-9 _)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read its password from standard input"
    )
    p.set_defaults(run=on_database(analyst_role))

    events = sub.add_parser("events", help="the event log").add_subparsers(
        dest="events_command", required=True
    )
    p = events.add_parser("export", help="stream the log out in log order")
    p.add_argument("--format", choices=FORMATS, default="ndjson", help="(default: %(default)s)")
    p.add_argument(
        "--after", type=_position, default=0, help="only events after this position (default: 0)"
    )
    p.add_argument(
        "--since", type=_time, metavar="TIME", help=f"only events recorded at or after{_AT}"
    )
    p.add_argument("--until", type=_time, metavar="TIME", help=f"only events recorded before{_AT}")
    p.add_argument("--type", choices=sorted(EVENT_TYPES), help="only events of this type")
    p.add_argument("--user", type=_user, help="only this user's events")
    p.add_argument("-o", "--output", help="write to this file (default: standard output)")
    p.add_argument("--connections", type=_count, default=2, help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=_count, help=argparse.SUPPRESS)
    p.set_defaults(run=on_database(export_events))

    users = sub.add_parser("users", help="users' data").add_subparsers(
        dest="users_command", required=True
    )
    p = users.add_parser("erase", help="erase a user's personal data (cannot be undone)")
    p.add_argument("user", type=_user)
    p.add_argument(
        "--by", type=_who, default=getpass.getuser(), help="who erases (default: the OS user)"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=on_database(erase))
