"""The database a command works on: the configured one, or an embedded one for its duration."""

import argparse
import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.settings import Settings

log = logging.getLogger("tasks")
# Where the data folder was, relative to the current folder, before it moved to one per user.
OLD_DATA_DIR = Path(".tasks-data")

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


def warn_of_an_old_data_folder(settings: Settings) -> None:
    """The data folder used to be ./.tasks-data: say where it is now, and how to keep the old."""
    chosen = "data_dir" in settings.model_fields_set
    if settings.database_url or chosen or not (OLD_DATA_DIR / "auth-secret").exists():
        return
    log.warning(
        "%s/ holds the data of an earlier version; the data folder is now %s."
        " To keep using the old one, set TASKS_DATA_DIR=%s (or move it there).",
        OLD_DATA_DIR,
        settings.data_dir,
        OLD_DATA_DIR.resolve(),
    )
