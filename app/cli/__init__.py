"""The `tasks` command line: one subcommand per operator task (the table in README.md)."""

import argparse
import os
import sys
from collections.abc import Callable
from importlib.metadata import version
from urllib.parse import urlsplit

from pydantic import ValidationError

from app import logs
from app.cli import analysts, imports, rebuild, serve
from app.cli.database import warn_of_an_old_data_folder
from app.settings import Settings, settings_problem

# What a shell reports for a command killed by SIGPIPE (128 + 13).
BROKEN_PIPE_STATUS = 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tasks", description="The event-sourced task service.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('tasks-es')}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_commands(sub)
    analysts.add_commands(sub)
    rebuild.add_commands(sub)
    imports.add_commands(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Each subcommand's --help opens with the line `tasks --help` lists it with."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, command in action.choices.items():
                command.description = command.description or helps.get(name)
                _describe(command)


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand. A mistake in the settings or an unreachable database is one line on
    stderr and a non-zero status, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        return _fail(f"invalid settings: {settings_problem(exc)}")
    logs.configure(settings.log_level)
    warn_of_an_old_data_folder(settings)
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    from app.runtime.db import DATABASE_UNAVAILABLE

    try:
        status = run(args, settings)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): as for any Unix tool, nothing more to say. stdout
        # goes to /dev/null so that Python's own flush at exit does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    except DATABASE_UNAVAILABLE as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            # A file of the command's own (an export's -o): the file system's error, not
            # the connection's (those carry no file name).
            return _fail(f"{exc.strerror}: {exc.filename}")
        where = _where(settings.database_url)
        return _fail(f"cannot reach the database{where}: {type(exc).__name__}: {exc}")
    return status


def _fail(message: str) -> int:
    print(f"tasks: {message}", file=sys.stderr)
    return 1


def _where(url: str | None) -> str:
    """host:port/database of a URL, never its password."""
    if not url:
        return " (embedded)"
    parts = urlsplit(url)
    return f" at {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
