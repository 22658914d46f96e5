"""Reading the CRUD service's `tasks` table and bringing its rows into the log, batch by batch.

The old table's columns: id uuid, user_id, title, description, completed, created_at,
updated_at. Each row becomes one TaskImported event (sql/functions/import_crud_tasks.sql).
"""

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from app.storage import event_store
from events import rules
from sql import queries

_SQL = queries("crud_import")
COLUMNS = ("id", "user_id", "title", "description", "completed", "created_at", "updated_at")
# A table name, optionally schema-qualified: checked, then quoted, never passed on as typed.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class SourceError(Exception):
    """The source database or table cannot be read as the CRUD service's tasks table."""


def quoted_table(name: str) -> str:
    """`schema.table` or `table`, each part quoted; a name of another shape is refused."""
    parts = name.split(".")
    if len(parts) > 2 or not all(_NAME.fullmatch(p) for p in parts):
        raise SourceError(f"{name!r} is not a table name (letters, digits, _; schema.table)")
    return ".".join(f'"{p}"' for p in parts)


async def check_source(conn: asyncpg.Connection, table: str) -> int:
    """How many rows the source table has; SourceError if it lacks a column the import needs."""
    rows = await conn.fetch(_SQL["source_columns"], table)
    if not rows:
        raise SourceError(f"the source database has no table {table}")
    missing = [c for c in COLUMNS if c not in {r["name"] for r in rows}]
    if missing:
        raise SourceError(f"the source table {table} has no column {', '.join(missing)}")
    count: int = await conn.fetchval(_SQL["source_count"].replace("{table}", table))
    return count


async def source_batches(
    conn: asyncpg.Connection, table: str, batch_size: int
) -> AsyncIterator[list[asyncpg.Record]]:
    """The source table's rows in id order, a batch at a time (keyset: no long transaction)."""
    rows = await conn.fetch(_SQL["source_first"].replace("{table}", table), batch_size)
    after = _SQL["source_next"].replace("{table}", table)
    while rows:
        yield rows
        rows = await conn.fetch(after, rows[-1]["id"], batch_size)


@dataclass
class Outcome:
    """What a batch (or a whole run) did; `refused` and `conflicts` say which rows and why."""

    imported: int = 0
    existing: int = 0
    refused: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def add(self, other: "Outcome") -> None:
        self.imported += other.imported
        self.existing += other.existing
        self.refused += other.refused
        self.conflicts += other.conflicts


def _refusal(row: asyncpg.Record) -> str | None:
    """Why the service could not serve this row as the API promises, or None."""
    try:
        rules.user_id(row["user_id"] or "")
        rules.title(row["title"] or "")
        rules.description(row["description"])
    except rules.InvalidInput as exc:
        return f"{row['id']} (user {row['user_id']!r}): {exc.field} {exc.message}"
    if row["created_at"] is None or row["updated_at"] is None or row["completed"] is None:
        return f"{row['id']} (user {row['user_id']!r}): a time or completed is missing"
    return None


async def import_batch(
    conn: asyncpg.Connection,
    rows: Sequence[asyncpg.Record],
    metadata: dict[str, Any],
    *,
    dry_run: bool,
) -> Outcome:
    """Bring one batch in (one transaction), or only count what it would do (dry_run)."""
    outcome = Outcome()
    good = []
    for row in rows:
        reason = _refusal(row)
        if reason is None:
            # The title as the API would store it: trimmed (rules.title), as a command does.
            good.append({**dict(row), "title": rules.title(row["title"])})
        else:
            outcome.refused.append(reason)
    columns = [[row[c] for row in good] for c in COLUMNS]
    done = await conn.fetchval(_SQL["import_batch"], *columns, metadata, dry_run)
    outcome.imported += done["imported"]
    outcome.existing += done["existing"]
    outcome.conflicts += [
        f"{c['id']} (user {c['user_id']!r}): the id is already user {c['owner']!r}'s"
        for c in done["conflicts"]
    ]
    return outcome


class Progress(Protocol):
    """Told how many rows there are, then how many each batch handled."""

    def grow(self, rows: int) -> None: ...
    def advance(self, rows: int) -> None: ...


async def import_all(
    source: asyncpg.Connection,
    target: asyncpg.Connection,
    table: str,
    progress: Progress,
    *,
    metadata: dict[str, Any],
    batch_size: int,
    dry_run: bool,
) -> Outcome:
    """Every row of the source table (checked first: check_source), batch by batch, each batch
    committed on its own: a run that stops keeps what it committed, and the next run skips
    it (`existing`)."""
    total = Outcome()
    batches = source_batches(source, table, batch_size)
    # The next batch is read from the source while this one is written to the target.
    ahead = asyncio.ensure_future(anext(batches, None))
    try:
        while (rows := await ahead) is not None:
            ahead = asyncio.ensure_future(anext(batches, None))
            async with target.transaction():
                total.add(await import_batch(target, rows, metadata, dry_run=dry_run))
            # Positions now, so the queue stays short and feeds include the import at once.
            await event_store.sequence(target)
            progress.advance(len(rows))
    finally:
        ahead.cancel()
    return total
