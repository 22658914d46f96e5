"""The shapes replay reads and writes: log rows as recorded events, tasks as table rows."""

from collections.abc import Callable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from msgspec import structs

from events.state import Task
from events.types import AnyTaskEvent, RecordedEvent
from events.upcast import json_decoder

# The read table's columns are the Task's fields, named alike, in the Task's order (which is
# also the API's key order), but `deleted`: a deleted task has no row. Derived, not written
# out: a field added to Task (and to the table, by a migration) is a column everywhere here.
_NOT_STORED = ("deleted",)
COLUMNS: tuple[str, ...] = tuple(f for f in Task.__struct_fields__ if f not in _NOT_STORED)
# The table's key; every other column is a field verify compares.
KEY = ("user_id", "id")
FIELDS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in KEY)
# Columns holding a time, which the API writes as RFC 3339.
TIMES: tuple[str, ...] = tuple(
    f.name for f in structs.fields(Task) if f.type is datetime and f.name in COLUMNS
)
Row = tuple[Any, ...]  # a task's values, in COLUMNS order


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


_values = attrgetter(*COLUMNS)


def task_row(task: Task) -> Row:
    """The task as a row of the read table, in COLUMNS order."""
    row: Row = _values(task)
    return row


def task_from_row(row: Any) -> Task:
    """A read-table row (anything indexed by column name) as task state."""
    return Task(**{column: row[column] for column in COLUMNS})
