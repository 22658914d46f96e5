"""`tasks events export`: the log in log order as NDJSON, CSV or Parquet, with its filters."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pyarrow.parquet as pq
import pytest

from app.analytics.export import Filters, export
from app.storage import event_store
from events.types import TaskCreated, TaskToggled, TaskUpdated, event_data
from tests.support.random_refs import random_user
from tests.support.seed import Writer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AWKWARD = 'Line one, "quoted"\nline two \\ back\tslash, ünïcode ✓'


async def seed(pool: asyncpg.Pool, user: str) -> None:
    async with pool.acquire() as conn:
        for n in range(3):
            task = Writer(conn, user)
            at = T0 + timedelta(hours=n)
            await task.append(
                at, TaskCreated(title=f"Task {n}", description=AWKWARD if n == 0 else None)
            )
            await task.append(at + timedelta(minutes=1), TaskUpdated(description=""))
            await task.append(at + timedelta(minutes=2), TaskToggled(completed=True))


async def exported(url: str, fmt: str, filters: Filters, **tuning: int) -> bytes:
    out = io.BytesIO()
    await export(url, fmt, filters, out, **tuning)  # type: ignore[arg-type]
    return out.getvalue()


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_ndjson_is_the_feed_in_log_order_one_event_per_line(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    await seed(pool, user)
    lines = (await exported(migrated_url, "ndjson", Filters(user_id=user))).decode().splitlines()
    async with pool.acquire() as conn:
        feed = await event_store.read_feed(conn, after=0, limit=100, user_id=user)
    assert [json.loads(line) for line in lines] == [
        {
            "position": e.position,
            "stream_id": str(e.stream_id),
            "version": e.version,
            "user_id": e.user_id,
            "type": e.type,
            "data": event_data(e.event),
            "metadata": e.metadata,
            "recorded_at": rfc3339(e.recorded_at),
        }
        for e in feed
    ]
    assert len(lines) == 9


async def test_csv_has_a_header_and_keeps_awkward_text_and_null_apart_from_empty(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    await seed(pool, user)
    text = (await exported(migrated_url, "csv", Filters(user_id=user))).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:9] == [
        "position",
        "recorded_at",
        "user_id",
        "stream_id",
        "task_id",
        "version",
        "type",
        "title",
        "description",
    ]
    assert rows[0][-4:] == ["request_id", "actor", "schema_version", "data"]
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(body) == 9
    assert body[0]["description"] == AWKWARD and body[0]["title"] == "Task 0"
    assert body[0]["recorded_at"] == "2026-03-02 09:00:00+00"
    assert json.loads(body[0]["data"])["description"] == AWKWARD
    # COPY writes NULL as nothing and the empty string as "": here a created task without a
    # description (title "Task 1", description null, completed false), then an update to "".
    assert ",Task 1,,f," in text
    assert ',TaskUpdated,,"",,' in text


async def test_parquet_has_typed_columns_and_the_same_rows(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    await seed(pool, user)
    table = pq.read_table(
        io.BytesIO(await exported(migrated_url, "parquet", Filters(user_id=user)))
    )
    types = {f.name: str(f.type) for f in table.schema}
    assert types["position"] == "int64" and types["recorded_at"] == "timestamp[us, tz=UTC]"
    assert types["completed"] == "bool" and types["version"] == "int32"
    rows = table.to_pylist()
    assert [r["type"] for r in rows[:3]] == ["TaskCreated", "TaskUpdated", "TaskToggled"]
    assert rows[0]["description"] == AWKWARD and rows[0]["recorded_at"] == T0
    assert rows[1]["description"] == "" and rows[2]["completed"] is True


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
async def test_small_batches_on_several_connections_give_the_same_bytes(
    pool: asyncpg.Pool, migrated_url: str, fmt: str
) -> None:
    user = random_user()
    await seed(pool, user)
    whole = await exported(
        migrated_url, fmt, Filters(user_id=user), connections=1, batch_size=10**6
    )
    # Positions of other tests' events fall between ours: most batches hold 0 or 1 of them.
    pieces = await exported(migrated_url, fmt, Filters(user_id=user), connections=3, batch_size=1)
    assert pieces == whole


async def test_filters_select_by_position_time_and_type(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    user = random_user()
    await seed(pool, user)

    async def positions(**kw: object) -> list[int]:
        out = await exported(migrated_url, "ndjson", Filters(user_id=user, **kw))  # type: ignore[arg-type]
        return [json.loads(line)["position"] for line in out.splitlines()]

    everything = await positions()
    assert await positions(after=everything[3]) == everything[4:]
    assert (
        await positions(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
        == everything[3:6]
    )
    assert len(await positions(type="TaskToggled")) == 3
    assert await positions(type="UserErased") == []


async def test_filter_values_are_bound_never_spliced_into_sql(
    pool: asyncpg.Pool, migrated_url: str
) -> None:
    for hostile in ("x' OR '1'='1", "'; DROP TABLE events; --", "$1"):
        assert await exported(migrated_url, "ndjson", Filters(user_id=hostile, type=hostile)) == b""
    csv_empty = await exported(migrated_url, "csv", Filters(user_id="x' OR '1'='1"))
    assert csv_empty.decode().startswith("position,recorded_at,") and csv_empty.count(b"\n") == 1


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "events", "export", *args],
        env={**os.environ, "DATABASE_URL": url, "TASKS_LOG_LEVEL": "WARNING"},
        capture_output=True,
        timeout=60,
    )


@pytest.mark.slow
async def test_the_command_writes_only_data_to_stdout_and_reports_progress_for_a_file(
    pool: asyncpg.Pool, migrated_url: str, tmp_path: Path
) -> None:
    user = random_user()
    await seed(pool, user)
    to_stdout = await asyncio.to_thread(run_cli, migrated_url, "--user", user)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stderr == b""
    assert to_stdout.stdout == await exported(migrated_url, "ndjson", Filters(user_id=user))
    target = tmp_path / "log.csv"
    to_file = await asyncio.to_thread(
        run_cli, migrated_url, "--format", "csv", "--user", user, "-o", str(target)
    )
    assert to_file.returncode == 0, to_file.stderr
    assert b"exporting" in to_file.stderr and b"exported 9 events" in to_file.stderr
    assert target.read_bytes() == await exported(migrated_url, "csv", Filters(user_id=user))
    assert sorted(os.listdir(tmp_path)) == ["log.csv"]
    refused = await asyncio.to_thread(run_cli, migrated_url, "--format", "parquet")
    assert refused.returncode == 2 and b"-o FILE" in refused.stderr
    bad = await asyncio.to_thread(run_cli, migrated_url, "--since", "yesterday")
    assert bad.returncode == 2 and b"not a time" in bad.stderr
