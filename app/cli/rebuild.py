"""`tasks rebuild` and `tasks verify`: connections, a progress bar, the outcome."""

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from app.cli.database import database_url
from app.runtime.migrate import pending_migrations
from app.settings import Settings
from projections.rebuild import RebuildError, rebuild
from projections.verify import VerifyError, report, verify

T = TypeVar("T")
console = Console(stderr=True)


class RateColumn(ProgressColumn):
    """Events per second since the bar began, as the summary counts them. rich's own speed
    needs two updates inside its window (one big batch showed "0 events/s") and follows the
    last bursts (a rebuild's bar said 1,807 where its summary said 166)."""

    def __init__(self, unit: str = "events") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Any) -> Text:
        seconds = task.elapsed
        return Text(f"{task.completed / seconds if seconds else 0:>9,.0f} {self.unit}/s")


class Bar:
    """A rich progress bar over events: done, per second, time left."""

    def __init__(self, progress: Progress, label: str) -> None:
        self._progress = progress
        self._task = progress.add_task(label, total=0)
        self._total = 0

    def grow(self, events: int) -> None:
        self._total += events
        self._progress.update(self._task, total=self._total)

    def advance(self, events: int) -> None:
        self._progress.advance(self._task, events)


@contextmanager
def progress_bar(label: str, unit: str = "events") -> Iterator[Bar]:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, speed_estimate_period=10) as progress:
        yield Bar(progress, label)


class NotMigrated(Exception):
    """The database's schema is behind the code's migrations."""


async def _with_connections(url: str, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Two connections: one streams the log, the other writes, while both work at once."""
    settings = {"application_name": "tasks replay", "statement_timeout": "0"}
    first = await asyncpg.connect(url, server_settings=settings)
    try:
        pending = await pending_migrations(first)
        if pending:
            raise NotMigrated(f"migrations not applied ({', '.join(pending)}): run `tasks migrate`")
        second = await asyncpg.connect(url, server_settings=settings)
        try:
            return await work(first, second)
        finally:
            await second.close()
    finally:
        await first.close()


def run_rebuild(url: str, *, batch_size: int, restart: bool) -> int:
    started = time.perf_counter()
    try:
        with progress_bar("rebuild") as bar:
            done = asyncio.run(
                _with_connections(
                    url, lambda r, w: rebuild(r, w, bar, batch_size=batch_size, restart=restart)
                )
            )
    except (RebuildError, NotMigrated) as exc:
        console.print(f"[red]rebuild stopped:[/red] {exc}")
        return 1
    seconds = time.perf_counter() - started
    events = done.snapshot_events + done.caught_up
    print(
        f"rebuilt {done.tasks:,} tasks from {events:,} events"
        f" ({done.caught_up:,} caught up after the snapshot)"
        + (
            f", resumed from a checkpoint, in {seconds:.1f} s"
            if done.resumed
            else f" in {seconds:.1f} s: {events / seconds:,.0f} events/s"
        )
    )
    return 0


def run_verify(url: str, *, batch_size: int, limit: int) -> int:
    try:
        with progress_bar("verify") as bar:
            outcome = asyncio.run(
                _with_connections(
                    url, lambda r, w: verify(r, w, bar, batch_size=batch_size, limit=limit)
                )
            )
    except (VerifyError, NotMigrated) as exc:
        console.print(f"[red]verify stopped:[/red] {exc}")
        return 2
    print(report(outcome))
    return 0 if not outcome.differences else 1


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("between 1 and 1,000,000")
    return value


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    with database_url(settings) as url:
        return run_rebuild(url, batch_size=args.batch_size, restart=args.restart)


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    with database_url(settings) as url:
        return run_verify(url, batch_size=args.batch_size, limit=args.limit)


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `rebuild` and `verify` on the `tasks` parser."""
    p = sub.add_parser(
        "rebuild", help="replay the log into a fresh read table and swap it in, while serving"
    )
    p.add_argument("--restart", action="store_true", help="ignore a checkpoint; start over")
    p.add_argument(
        "--batch-size", type=_count, default=50_000, help="events per read (default: %(default)s)"
    )
    p.set_defaults(run=rebuild_command)
    p = sub.add_parser("verify", help="compare the read table with the fold of the log")
    p.add_argument(
        "--batch-size", type=_count, default=50_000, help="events per read (default: %(default)s)"
    )
    p.add_argument(
        "--limit",
        type=_count,
        default=1000,
        help="differences reported in full (default: %(default)s)",
    )
    p.set_defaults(run=verify_command)
