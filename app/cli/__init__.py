"""The `tasks` command line: one subcommand per operator task (the table in README.md)."""

import argparse
import logging
from collections.abc import Callable

from app.cli import analysts, imports, rebuild, serve
from app.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tasks", description="The event-sourced task service.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_commands(sub)
    analysts.add_commands(sub)
    rebuild.add_commands(sub)
    imports.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    return run(args, settings)
