"""Turn a stored event of any schema version into the current event Struct.

To change an event's shape: bump its entry in SCHEMA_VERSIONS and register a
function here that rewrites the old data dict into the new shape. Stored rows are
never rewritten; old shapes are upgraded on every read (README: "Changing an
event's shape").
"""

from collections.abc import Callable
from typing import Any

from events.types import SCHEMA_VERSIONS, AnyTaskEvent, event_from_row

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (event type, stored schema version) -> function giving the next version's data.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcast(type_name: str, data: dict[str, Any], metadata: dict[str, Any]) -> AnyTaskEvent:
    """Decode stored data of whatever schema version into the current event type."""
    version = int(metadata.get("schema_version", 1))
    current = SCHEMA_VERSIONS.get(type_name, 1)
    while version < current:
        step = UPCASTERS.get((type_name, version))
        if step is None:
            raise LookupError(f"no upcaster for {type_name} from schema version {version}")
        data = step(data)
        version += 1
    return event_from_row(type_name, data)
