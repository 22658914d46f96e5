"""Verify the tasks read table: fold the log and compare, task by task and field by field.

The log and the table are read in one snapshot (a second connection imports it to
stream the log), so the check holds while commands keep changing both. The fold goes
batch by batch into a temporary table and PostgreSQL compares the two, so memory stays
bounded by the batch size on both sides.
"""

import re
from typing import Any, NamedTuple

from projections.replay import Folded, Progress, fold_log, log_snapshot, pending
from projections.rows import COLUMNS, FIELDS
from sql import queries

_SQL = queries("verify")
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9A-F]+)?$")


class Difference(NamedTuple):
    user_id: str
    task_id: Any
    kind: str  # "missing" (in the log, not the table), "extra" (the reverse), "differs"
    fields: dict[str, tuple[Any, Any]]  # field -> (from the log, in the table)


class Verified(NamedTuple):
    events: int
    tasks: int  # rows of the read table
    differences: list[Difference]  # the first `limit` of them
    total: int  # how many differences in all


class VerifyError(Exception):
    """A check that cannot run now; the message says why."""


async def verify(
    reader: Any, conn: Any, progress: Progress, *, batch_size: int, limit: int = 1000
) -> Verified:
    """Compare the read table with the fold of the log, both as of one snapshot."""
    if not await conn.fetchval(_SQL["try_lock"]):
        raise VerifyError("a rebuild is running: verify once it has finished")
    try:
        return await _verify(reader, conn, progress, batch_size, limit)
    finally:
        await conn.execute(_SQL["unlock"])


async def _verify(
    reader: Any, conn: Any, progress: Progress, batch_size: int, limit: int
) -> Verified:
    async with conn.transaction(isolation="repeatable_read"):
        snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
        if not _SNAPSHOT_ID.match(snapshot):  # it is interpolated below: be sure of its form
            raise ValueError(f"unexpected snapshot id {snapshot!r}")
        async with reader.transaction(isolation="repeatable_read", readonly=True):
            await reader.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            await conn.execute(_SQL["create_folded"])
            upto, events = await log_snapshot(conn)
            events += await pending(conn)
            progress.grow(events)

            async def write(batch: Folded) -> None:
                if batch.rows:
                    await conn.copy_records_to_table(
                        "folded_tasks", records=batch.rows, columns=COLUMNS
                    )
                progress.advance(batch.events_read)

            # The read table holds what the queued events did already: fold them too.
            await fold_log(reader, write, upto=upto, batch_size=batch_size, pending=True)
        rows = await conn.fetch(_SQL["differences"], limit)
        tasks = await conn.fetchval(_SQL["count_table"])
    total = rows[0]["total"] if rows else 0
    return Verified(events, tasks, [_difference(r) for r in rows], total)


def _difference(row: Any) -> Difference:
    folded, stored = row["folded"], row["stored"]  # whole rows, None on the side it is not in
    if not row["in_table"]:
        kind, fields = "missing", {f: (folded[f], None) for f in FIELDS}
    elif not row["in_log"]:
        kind, fields = "extra", {f: (None, stored[f]) for f in FIELDS}
    else:
        kind = "differs"
        fields = {f: (folded[f], stored[f]) for f in FIELDS if folded[f] != stored[f]}
    return Difference(row["user_id"], row["id"], kind, fields)


def report(verified: Verified) -> str:
    """A readable account: one line per difference, with the user and task ids."""
    head = f"{verified.events:,} events folded, {verified.tasks:,} rows in the read table"
    if not verified.differences:
        return f"{head}: the read table equals the fold of the log"
    lines = [f"{head}: {verified.total:,} difference(s)"]
    for d in verified.differences:
        where = f"user {d.user_id} task {d.task_id}"
        if d.kind == "missing":
            lines.append(
                f"  missing  {where}: in the log (title {d.fields['title'][0]!r}), not in the read table"
            )
        elif d.kind == "extra":
            lines.append(
                f"  extra    {where}: in the read table (title {d.fields['title'][1]!r}), not in the log"
            )
        else:
            changes = "; ".join(f"{f}: log {a!r}, table {b!r}" for f, (a, b) in d.fields.items())
            lines.append(f"  differs  {where}: {changes}")
    if verified.total > len(verified.differences):
        lines.append(f"  ... and {verified.total - len(verified.differences):,} more")
    return "\n".join(lines)
