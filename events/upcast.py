"""Turn a stored event of any schema version into the current event Struct.

To change an event's shape: bump its entry in SCHEMA_VERSIONS and register a
function here that rewrites the old data dict into the new shape. Stored rows are
never rewritten; old shapes are upgraded on every read (README: "Changing an
event's shape").
"""

from collections.abc import Callable
from typing import Any

import msgspec

from events.types import EVENT_TYPES, SCHEMA_VERSIONS, AnyTaskEvent, event_from_row

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (event type, stored schema version) -> function giving the next version's data.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}

# Data already in the current shape decodes from JSON straight into its Struct.
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()
}
_decode_json = msgspec.json.Decoder().decode


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


def json_decoder(type_name: str, schema_version: int) -> Callable[[str | bytes], AnyTaskEvent]:
    """A function from stored JSON data of this type and schema version to the current Struct.

    Data already in the current shape decodes straight into its Struct: the fast path of
    bulk replay, which looks this function up once per type and version, not per event.
    """
    if schema_version == SCHEMA_VERSIONS.get(type_name):
        decode: Callable[[str | bytes], AnyTaskEvent] = _DECODERS[type_name].decode
        return decode
    return lambda data: upcast(type_name, _decode_json(data), {"schema_version": schema_version})


def upcast_json(type_name: str, data: str | bytes, schema_version: int) -> AnyTaskEvent:
    """The same as upcast, from the stored JSON text."""
    return json_decoder(type_name, schema_version)(data)
