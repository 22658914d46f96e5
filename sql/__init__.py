"""Plain SQL files, and the order `tasks migrate` (app/runtime/migrate.py) applies them in.

1. migrations/NNNN_*.sql: schema changes (tables, indexes, triggers' attachment), in number
   order, each once, recorded in schema_migrations.
2. functions/*.sql, then views/*.sql: one definition per file, in name order, each applied
   again whenever its text changed since it was last applied (recorded in schema_definitions).

A file names what must exist before it with `-- needs: functions/NAME.sql` lines (a
migration that attaches a trigger needs the trigger's function; a view over a view needs
that view): those definitions are applied just before it. Every file is safe to rerun.
A migration rewritten on purpose, with the same end schema, says so with a
`-- replaces: SHA256` line naming the text it replaces, so its change is not reported.

queries/*.sql hold named queries, as in aiosql: a `-- name: NAME` line opens each one.

citus/: what differs on a Citus coordinator (docs/scaling.md). citus/functions/NAME.sql
stands in for functions/NAME.sql there (same name in schema_definitions, its own text);
citus/distribute.sql turns the tables into the distributed layout, run by `tasks migrate`
after the definitions (rerunnable: it skips what is distributed already).
"""

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import NamedTuple

SQL_DIR = Path(__file__).parent
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_DEFINITION_KINDS = ("functions", "views")
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_NEEDS = re.compile(r"^--\s*needs:\s*(\S+)\s*$", re.MULTILINE)
_REPLACES = re.compile(r"^--\s*replaces:\s*([0-9a-f]{64})\s*$", re.MULTILINE)


class SqlFile(NamedTuple):
    name: str  # a migration's file name, or a definition's path: functions/erase_user.sql
    text: str
    checksum: str  # sha256 of the text
    needs: tuple[str, ...]  # definitions to apply first
    replaces: frozenset[str]  # checksums of earlier texts this one stands for


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path, name: str) -> SqlFile:
    text = path.read_text(encoding="utf-8")
    return SqlFile(
        name,
        text,
        checksum(text),
        tuple(_NEEDS.findall(text)),
        frozenset(_REPLACES.findall(text)),
    )


@cache
def migrations() -> tuple[SqlFile, ...]:
    """Every migration, in the order they apply."""
    files = sorted(p for p in (SQL_DIR / "migrations").iterdir() if _MIGRATION.match(p.name))
    return tuple(_read(p, p.name) for p in files)


@cache
def _definitions(citus: bool = False) -> dict[str, SqlFile]:
    found = {}
    for kind in _DEFINITION_KINDS:
        for path in sorted((SQL_DIR / kind).glob("*.sql")):
            name = f"{kind}/{path.name}"
            variant = SQL_DIR / "citus" / kind / path.name
            found[name] = _read(variant if citus and variant.exists() else path, name)
    return found


def definitions(*, citus: bool = False) -> tuple[SqlFile, ...]:
    """Every function, then every view, each after the definitions it needs; with `citus`,
    the Citus variant of those that have one."""
    return needed_first(_definitions(citus), citus=citus)


def needed_first(names: Iterable[str], *, citus: bool = False) -> tuple[SqlFile, ...]:
    """The named definitions (an iterable of names), each preceded by what it needs."""
    known = _definitions(citus)
    ordered: dict[str, SqlFile] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ValueError(f"definitions need each other: {' -> '.join((*path, name))}")
        if name in ordered:
            return
        if name not in known:
            raise ValueError(f"{path[-1] if path else 'a file'} needs {name}, which is not in sql/")
        for needed in known[name].needs:
            visit(needed, (*path, name))
        ordered[name] = known[name]

    for name in names:
        visit(name, ())
    return tuple(ordered.values())


def citus_distribute() -> str:
    """The statements that turn a Citus coordinator's tables into the distributed layout."""
    return (SQL_DIR / "citus" / "distribute.sql").read_text(encoding="utf-8")


def definition_text(name: str) -> str:
    """The text of one definition, e.g. definition_text("functions/tasks_lock_key")."""
    return _definitions()[f"{name}.sql"].text


@cache
def queries(module: str) -> dict[str, str]:
    """The named queries of queries/<module>.sql."""
    text = (SQL_DIR / "queries" / f"{module}.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)
    found = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    if not found:
        raise ValueError(f"no named queries in {module}.sql")
    return found
