"""Every SQL example in docs/analytics.md runs, as the read-only role, on a seeded log,
and the answers are the ones the seed implies."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.analytics.erasure import erase_user
from events.types import AnyTaskEvent, TaskCreated, TaskDeleted, TaskToggled, TaskUpdated
from tests.support.databases import AnalystFactory, connect, connect_as
from tests.support.seed import Writer

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"
_HEADING_THEN_SQL = re.compile(
    r"^### (?P<heading>[^\n]+)\n(?:(?!^#{1,3} ).)*?^```sql\n(?P<sql>.*?)^```", re.S | re.M
)


def examples() -> dict[str, str]:
    """heading -> the SQL block under it (every ```sql block of the page)."""
    text = DOC.read_text(encoding="utf-8")
    found = {m["heading"]: m["sql"] for m in _HEADING_THEN_SQL.finditer(text)}
    assert len(found) == text.count("```sql\n"), "an ```sql block without a ### heading of its own"
    return found


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# Two weeks of four users (2026-03-02 is a Monday). dee asks to be forgotten afterwards.
SEED: dict[str, list[list[tuple[datetime, AnyTaskEvent]]]] = {
    "ana": [
        [
            (at(2, 9), TaskCreated(title="Write report")),
            (at(2, 9, 30), TaskUpdated(title="Write the quarterly report")),
            (at(2, 11), TaskToggled(completed=True)),
        ],
        [
            (at(3, 10), TaskCreated(title="Book flights")),
            (at(5, 10), TaskToggled(completed=True)),
            (at(5, 12), TaskToggled(completed=False)),
            (at(6, 9), TaskToggled(completed=True)),
        ],
        [(at(9, 14), TaskCreated(title="Plan offsite")), (at(10, 8), TaskDeleted())],
    ],
    "ben": [
        [
            (at(2, 9, 15), TaskCreated(title="Fix the bike")),
            (at(2, 9, 20), TaskUpdated(description="front wheel")),
            (at(3, 9), TaskUpdated(title="Fix the bike brakes")),
            (at(10, 15), TaskToggled(completed=True)),
        ],
        [(at(10, 16), TaskCreated(title="Call mum"))],
    ],
    "cy": [
        [(at(11, 9), TaskCreated(title="Buy a plant")), (at(11, 9, 5), TaskDeleted())],
        [
            (at(11, 9, 10), TaskCreated(title="Water the plants")),
            (at(11, 10, 10), TaskToggled(completed=True)),
            (at(12, 8), TaskDeleted()),
        ],
    ],
    "dee": [
        [
            (at(4, 10), TaskCreated(title="See Dr. Smith")),
            (at(4, 10, 30), TaskToggled(completed=True)),
        ],
    ],
}


@pytest.fixture(scope="module")
async def seeded(scratch_url: str) -> str:
    conn = await connect(scratch_url)
    try:
        for user, tasks in SEED.items():
            for history in tasks:
                task = Writer(conn, user)
                for when, event in history:
                    await task.append(when, event)
        await erase_user(conn, "dee", "dpo@example.com")
    finally:
        await conn.close()
    return scratch_url


EXPECTED: dict[str, list[tuple[object, ...]]] = {
    "Completion rate per week": [
        (date(2026, 3, 2), 4, 4, Decimal("1.00")),
        (date(2026, 3, 9), 4, 1, Decimal("0.25")),
    ],
    "Median time to complete": [(timedelta(hours=2), 5)],
    "Users active per day": [
        (date(2026, 3, d), users, events)
        for d, users, events in [
            (2, 2, 5),
            (3, 2, 2),
            (4, 1, 2),
            (5, 1, 2),
            (6, 1, 1),
            (9, 1, 1),
            (10, 2, 3),
            (11, 1, 4),
            (12, 1, 1),
        ]
    ],
}


async def test_the_page_has_the_six_questions_and_more() -> None:
    headings = set(examples())
    assert {
        "Completion rate per week",
        "Median time to complete",
        "Most edited tasks",
        "Busiest hours",
        "Users active per day",
        "Tasks deleted unfinished",
    } <= headings


@pytest.mark.parametrize("heading", sorted(examples()))
async def test_each_example_runs_as_the_analyst_and_answers(
    seeded: str, make_analyst: AnalystFactory, heading: str
) -> None:
    role, password = await make_analyst(seeded)
    conn = await connect_as(seeded, role, password)
    try:
        rows = await conn.fetch(examples()[heading])
    finally:
        await conn.close()
    assert rows, f"{heading}: no rows on the seeded log"
    answer = [tuple(r.values()) for r in rows]
    if heading in EXPECTED:
        assert answer == EXPECTED[heading]
    elif heading == "Most edited tasks":
        assert [(r["user_id"], r["title"], r["updates"], r["toggles"]) for r in rows[:3]] == [
            ("ben", "Fix the bike brakes", 2, 1),
            ("ana", "Write the quarterly report", 1, 1),
            ("ana", "Book flights", 0, 3),
        ]
    elif heading == "Busiest hours":
        assert answer[:2] == [(9, 9), (10, 5)]
    elif heading == "Tasks deleted unfinished":
        assert [(r["user_id"], r["title"], r["lived"]) for r in rows] == [
            ("ana", "Plan offsite", timedelta(hours=18)),
            ("cy", "Buy a plant", timedelta(minutes=5)),
        ]
    elif heading == "Erasures":
        assert [a[1:] for a in answer] == [("dee", "dpo@example.com", 2, 1)]
