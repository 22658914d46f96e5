"""The database a command works on: the configured one, or an embedded one for its duration."""

import argparse
import asyncio
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from app.settings import Settings

# A command that works on a database: (its arguments, the database URL) -> exit status.
DatabaseCommand = Callable[[argparse.Namespace, str], Coroutine[Any, Any, int]]


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database, or an embedded one started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    from app.runtime.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def on_database(command: DatabaseCommand) -> Callable[[argparse.Namespace, Settings], int]:
    """Run an async command against the configured database (or an embedded one)."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        with database_url(settings) as url:
            return asyncio.run(command(args, url))

    return run
