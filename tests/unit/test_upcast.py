"""Upcasting: stored data of an older schema version becomes the current event Struct."""

from typing import Any

import pytest

from events import upcast as upcasting
from events.types import TaskCreated, TaskToggled


def test_current_data_decodes_as_it_is() -> None:
    event = upcasting.upcast("TaskToggled", {"completed": True}, {"schema_version": 1})
    assert event == TaskToggled(completed=True)


def test_old_data_passes_through_every_upcaster_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given TaskCreated at schema 3, data stored at schema 1 is upgraded 1 -> 2 -> 3."""

    def one_to_two(data: dict[str, Any]) -> dict[str, Any]:
        return {"heading": data["title"], "completed": data["completed"]}

    def two_to_three(data: dict[str, Any]) -> dict[str, Any]:
        return {"title": data["heading"], "description": None, "completed": data["completed"]}

    monkeypatch.setitem(upcasting.SCHEMA_VERSIONS, "TaskCreated", 3)
    monkeypatch.setitem(upcasting.UPCASTERS, ("TaskCreated", 1), one_to_two)
    monkeypatch.setitem(upcasting.UPCASTERS, ("TaskCreated", 2), two_to_three)
    stored = {"title": "Buy milk", "description": "old", "completed": False}
    assert upcasting.upcast("TaskCreated", stored, {"schema_version": 1}) == TaskCreated(
        title="Buy milk", description=None
    )
    current = {"title": "Buy milk", "description": "kept", "completed": True}
    assert upcasting.upcast("TaskCreated", current, {"schema_version": 3}) == TaskCreated(
        title="Buy milk", description="kept", completed=True
    )


def test_a_missing_upcaster_is_named_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(upcasting.SCHEMA_VERSIONS, "TaskToggled", 2)
    with pytest.raises(LookupError, match="TaskToggled from schema version 1"):
        upcasting.upcast("TaskToggled", {"completed": True}, {"schema_version": 1})
