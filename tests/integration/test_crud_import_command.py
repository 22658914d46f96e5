"""`tasks import-crud` as an operator runs it: a summary, exit codes, one clear line when the
source cannot be read, and the CRUD service's own SQLAlchemy URL taken as it is."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import pytest

from app.cli import main
from tests.support.crud import create_source, drop_source, insert, old_tasks
from tests.support.random_refs import random_user


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def tasks_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """`tasks ARGS` in this process (the command starts no server of its own here)."""

    def run(url: str, *args: str) -> Ran:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("TASKS_LOG_LEVEL", "WARNING")
        code = main(list(args))
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run


@pytest.fixture
async def source(database_url: str) -> AsyncIterator[str]:
    url = await create_source(database_url)
    yield url
    await drop_source(database_url, url)


def sqlalchemy_style(url: str) -> str:
    """The URL as the CRUD service's settings spell it: postgresql+asyncpg://..."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql+asyncpg"))


def test_the_command_imports_says_what_it_did_and_a_rerun_adds_nothing(
    source: str, migrated_url: str, tasks_cli: Callable[..., Ran]
) -> None:
    asyncio.run(insert(source, old_tasks(random_user(), 6)))
    dry = tasks_cli(migrated_url, "import-crud", source, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("dry run, nothing written: would import 6 tasks;")
    first = tasks_cli(migrated_url, "import-crud", sqlalchemy_style(source), "--batch-size", "4")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("imported 6 tasks; skipped 0 already here, 0 conflicting,")
    assert "6 rows read in" in first.stdout
    again = tasks_cli(migrated_url, "import-crud", source)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("imported 0 tasks; skipped 6 already here,")


@pytest.mark.parametrize(
    ("source_url", "says"),
    [
        (
            "postgresql://postgres@127.0.0.1:1/old",
            "cannot read the source database 127.0.0.1:1/old:",
        ),
        ("mysql://old-host/tasks", "cannot read the source database old-host:5432/tasks:"),
        ("not a url", "cannot read the source database"),
    ],
)
def test_a_source_it_cannot_read_is_one_clear_line_and_exit_2(
    migrated_url: str, source_url: str, says: str, tasks_cli: Callable[..., Ran]
) -> None:
    done = tasks_cli(migrated_url, "import-crud", source_url)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"tasks import-crud: {says}")


def test_a_missing_table_is_one_clear_line_and_exit_2(
    source: str, migrated_url: str, tasks_cli: Callable[..., Ran]
) -> None:
    done = tasks_cli(migrated_url, "import-crud", source, "--table", "todo")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        'tasks import-crud: the source database has no table "todo"',
    )
