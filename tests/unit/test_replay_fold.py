"""The replay fold: log rows in stream order, folded one task at a time with evolve."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from events import upcast as upcasting
from events.evolve import fold
from events.types import SCHEMA_VERSIONS, TaskCreated, TaskToggled, TaskUpdated
from events.upcast import upcast, upcast_json
from projections.replay import StreamFold
from projections.rows import Row, recorded, task_row

T0 = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def log_row(user: str, stream: UUID, version: int, type_name: str, data: dict[str, Any]) -> tuple:
    """A row as the replay queries select it."""
    data_json = msgspec.json.encode(data).decode()
    return (100 + version, stream, version, user, type_name, data_json, 1, T0 + timedelta(version))


def a_log() -> list[tuple]:
    """Three tasks of two users in stream order: one changed, one deleted, one created only."""
    first, second, third = uuid4(), uuid4(), uuid4()
    return [
        log_row("alice", first, 1, "TaskCreated", {"title": "a", "description": None}),
        log_row("alice", first, 2, "TaskUpdated", {"title": "b"}),
        log_row("alice", first, 3, "TaskToggled", {"completed": True}),
        log_row("alice", second, 1, "TaskCreated", {"title": "gone"}),
        log_row("alice", second, 2, "TaskDeleted", {}),
        log_row("bob", third, 1, "TaskCreated", {"title": "c", "description": "d"}),
    ]


def fold_in_slices(rows: list[tuple], size: int) -> tuple[list[Row], StreamFold]:
    fold, out = StreamFold(), []
    for at in range(0, len(rows), size):
        fold.feed(rows[at : at + size], out)
    fold.finish(out)
    return out, fold


def test_each_live_task_comes_out_once_as_evolve_folds_it_and_deleted_ones_not_at_all() -> None:
    rows = a_log()
    out, fold_state = fold_in_slices(rows, len(rows))
    expected = [fold([recorded(r) for r in rows[0:3]]), fold([recorded(r) for r in rows[5:6]])]
    assert out == [task_row(t) for t in expected if t is not None]
    assert out[0][2:5] == ("b", None, True) and out[0][7] == 3
    assert fold_state.events_complete == 6
    assert fold_state.last_stream == ("bob", rows[5][1])


@pytest.mark.parametrize("size", [1, 2, 4, 5])
def test_batch_boundaries_inside_a_stream_change_nothing(size: int) -> None:
    rows = a_log()
    whole, _ = fold_in_slices(rows, len(rows))
    assert fold_in_slices(rows, size)[0] == whole


def test_a_stream_cut_by_a_batch_is_not_reported_complete_until_its_next_stream_begins() -> None:
    rows = a_log()
    fold_state, out = StreamFold(), []
    fold_state.feed(rows[:2], out)
    assert (out, fold_state.last_stream, fold_state.events_complete) == ([], None, 0)
    fold_state.feed(rows[2:4], out)
    assert fold_state.last_stream == ("alice", rows[0][1]) and fold_state.events_complete == 3


def test_current_json_decodes_as_upcast_decodes_the_dict() -> None:
    for type_name, data in [
        ("TaskCreated", {"title": "t", "description": None, "completed": False}),
        ("TaskUpdated", {"description": "d"}),
        ("TaskToggled", {"completed": True}),
        ("TaskDeleted", {}),
    ]:
        text = msgspec.json.encode(data)
        assert upcast_json(type_name, text, 1) == upcast(type_name, data, {"schema_version": 1})


def test_an_old_schema_version_goes_through_the_upcasters(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if TaskToggled's data had been {"done": bool} in version 1 and is {"completed"} now.
    monkeypatch.setitem(SCHEMA_VERSIONS, "TaskToggled", 2)
    monkeypatch.setitem(upcasting.UPCASTERS, ("TaskToggled", 1), lambda d: {"completed": d["done"]})
    assert upcast_json("TaskToggled", b'{"done": true}', 1) == TaskToggled(completed=True)
    assert upcast_json("TaskToggled", b'{"completed": false}', 2) == TaskToggled(completed=False)


def test_bad_stored_data_fails_loudly_rather_than_folding_into_a_wrong_task() -> None:
    with pytest.raises(ValueError, match="completed"):
        upcast_json("TaskToggled", b'{"completed": "yes"}', 1)
    with pytest.raises(ValueError, match="unknown event type"):
        upcast_json("TaskRenamed", b"{}", 1)
    assert upcast_json("TaskUpdated", b'{"title": "x"}', 1) == TaskUpdated(title="x")
    assert upcast_json("TaskCreated", b'{"title": "x"}', 1) == TaskCreated(title="x")
