"""The shapes replay reads and writes: log rows as recorded events, tasks as table rows."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from events.state import Task
from events.types import AnyTaskEvent, RecordedEvent
from events.upcast import json_decoder

# The columns of a read-table row, in the order replay writes them.
COLUMNS = (
    "user_id",
    "id",
    "title",
    "description",
    "completed",
    "created_at",
    "updated_at",
    "version",
)
Row = tuple[str, UUID, str, str | None, bool, datetime, datetime, int]


class _Decoding:
    """Log rows to recorded events, with the decoder of each (type, schema version) looked
    up once: this runs once per event of the log."""

    def __init__(self) -> None:
        self._decoders: dict[tuple[str, int], Callable[[str], AnyTaskEvent]] = {}
        self._metadata: dict[int, dict[str, Any]] = {}

    def recorded(self, row: Sequence[Any]) -> RecordedEvent:
        position, stream_id, version, user_id, type_name, data, schema_version, at = row
        decode = self._decoders.get((type_name, schema_version))
        if decode is None:
            decode = self._decoders[(type_name, schema_version)] = json_decoder(
                type_name, schema_version
            )
            self._metadata[schema_version] = {"schema_version": schema_version}
        return RecordedEvent(
            position=position,
            stream_id=stream_id,
            version=version,
            user_id=user_id,
            event=decode(data),
            metadata=self._metadata[schema_version],  # evolve reads no metadata
            recorded_at=at,
        )


# A log row, as the replay queries select it, as the recorded event evolve takes.
recorded = _Decoding().recorded


def task_row(task: Task) -> Row:
    return (
        task.user_id,
        task.id,
        task.title,
        task.description,
        task.completed,
        task.created_at,
        task.updated_at,
        task.version,
    )


def task_from_row(row: Any) -> Task:
    """A read-table row as task state."""
    return Task(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        description=row["description"],
        completed=row["completed"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )
