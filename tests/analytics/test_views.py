"""The analysts' views over a seeded user's log, and the BRIN index for time ranges."""

from datetime import UTC, datetime, timedelta

import asyncpg

from events.types import TaskCreated, TaskDeleted, TaskImported, TaskToggled, TaskUpdated
from tests.support.random_refs import random_user
from tests.support.seed import Writer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def seed(pool: asyncpg.Pool, user: str) -> tuple[Writer, Writer]:
    async with pool.acquire() as conn:
        done = Writer(conn, user)
        await done.append(T0, TaskCreated(title="Buy milk", description="2 l"))
        await done.append(T0 + timedelta(minutes=5), TaskUpdated(title="Buy oat milk"))
        await done.append(T0 + timedelta(minutes=6), TaskUpdated(description=None))
        await done.append(T0 + timedelta(hours=2), TaskToggled(completed=True))
        await done.append(T0 + timedelta(hours=3), TaskToggled(completed=False))
        await done.append(T0 + timedelta(days=1), TaskToggled(completed=True))
        dropped = Writer(conn, user)
        await dropped.append(T0 + timedelta(days=1, hours=1), TaskCreated(title="Call Bob"))
        await dropped.append(T0 + timedelta(days=1, hours=2), TaskDeleted())
    return done, dropped


async def test_analytics_events_has_the_data_fields_as_typed_columns(pool: asyncpg.Pool) -> None:
    user = random_user()
    done, _ = await seed(pool, user)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM analytics.events WHERE user_id = $1 ORDER BY position", user
        )
    first, cleared, toggled = rows[0], rows[2], rows[3]
    assert (first["type"], first["title"], first["description"], first["completed"]) == (
        "TaskCreated",
        "Buy milk",
        "2 l",
        False,
    )
    assert first["task_id"] == first["stream_id"] == done.task_id
    assert (first["version"], first["actor"], first["schema_version"]) == (1, user, 1)
    assert first["request_id"].startswith("seed-") and first["recorded_at"] == T0
    assert (
        cleared["title"],
        cleared["description"],
        cleared["sets_title"],
        cleared["sets_description"],
    ) == (
        None,
        None,
        False,
        True,
    )
    assert (toggled["completed"], toggled["title"], toggled["sets_title"]) == (True, None, False)


async def test_task_lifecycle_folds_each_task_into_one_row(pool: asyncpg.Pool) -> None:
    user = random_user()
    done, dropped = await seed(pool, user)
    async with pool.acquire() as conn:
        rows = {
            r["task_id"]: r
            for r in await conn.fetch(
                "SELECT * FROM analytics.task_lifecycle WHERE user_id = $1", user
            )
        }
    kept, gone = rows[done.task_id], rows[dropped.task_id]
    assert (
        kept["title"],
        kept["completed"],
        kept["updates"],
        kept["toggles"],
        kept["version"],
    ) == (
        "Buy oat milk",
        True,
        2,
        3,
        6,
    )
    assert (kept["created_at"], kept["first_completed_at"], kept["deleted_at"]) == (
        T0,
        T0 + timedelta(hours=2),
        None,
    )
    assert kept["time_to_first_completion"] == timedelta(hours=2)
    assert kept["last_event_at"] == T0 + timedelta(days=1)
    assert (gone["deleted_at"], gone["first_completed_at"], gone["time_to_first_completion"]) == (
        T0 + timedelta(days=1, hours=2),
        None,
        None,
    )


async def test_an_imported_task_keeps_its_old_creation_time_and_is_no_activity_of_its_user(
    pool: asyncpg.Pool,
) -> None:
    user, born = random_user(), datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    async with pool.acquire() as conn:
        moved = Writer(conn, user)
        await moved.append(
            T0,
            TaskImported(
                title="From the old service",
                description=None,
                completed=True,
                created_at=born,
                updated_at=born + timedelta(days=3),
            ),
        )
        await moved.append(T0 + timedelta(hours=1), TaskUpdated(title="Renamed here"))
        row = await conn.fetchrow(
            "SELECT * FROM analytics.task_lifecycle WHERE task_id = $1", moved.task_id
        )
        event = await conn.fetchrow(
            "SELECT * FROM analytics.events WHERE task_id = $1 AND version = 1", moved.task_id
        )
        activity = await conn.fetch(
            "SELECT * FROM analytics.user_daily_activity WHERE user_id = $1", user
        )
    assert (row["created_at"], row["imported_at"], row["title"], row["completed"]) == (
        born,
        T0,
        "Renamed here",
        True,
    )
    assert (row["first_completed_at"], row["time_to_first_completion"]) == (None, None)
    assert (event["type"], event["title"], event["completed"]) == (
        "TaskImported",
        "From the old service",
        True,
    )
    # Only the rename was the user's doing.
    assert [(a["events"], a["created"], a["updated"]) for a in activity] == [(1, 0, 1)]


async def test_user_daily_activity_counts_what_the_user_did_each_day(pool: asyncpg.Pool) -> None:
    user = random_user()
    await seed(pool, user)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT day, events, created, updated, completed, reopened, deleted, tasks_touched"
            "  FROM analytics.user_daily_activity WHERE user_id = $1 ORDER BY day",
            user,
        )
    assert [tuple(r) for r in rows] == [
        (T0.date(), 5, 1, 2, 1, 1, 0, 1),
        ((T0 + timedelta(days=1)).date(), 3, 1, 0, 1, 0, 1, 2),
    ]


async def test_a_time_range_over_the_log_can_use_the_brin_index(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        # On Citus the shards' plans are the workers': pass the setting on (ignored on one server)
        await conn.execute("SET LOCAL citus.propagate_set_commands = 'local'")
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = await conn.fetch(
            "EXPLAIN SELECT count(*) FROM analytics.events"
            " WHERE recorded_at >= now() - interval '1 day' AND recorded_at < now()"
        )
    assert "events_recorded_at_brin" in "\n".join(r[0] for r in plan)
