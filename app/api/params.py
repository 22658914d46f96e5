"""Path, query and header parameters: their documented limits, and the parsing a type alone
cannot do (ETags, stream positions, event type filters)."""

import re
from typing import Annotated

from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter, Parameter, QueryParameter

from app.api.problems import bad_input
from events import rules
from events.types import EVENT_TYPES

_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,9})"\s*')
_POSITION = re.compile(r"\s*(\d{1,19})\s*")
MAX_POSITION = 2**63 - 1
# The user id's documented form; rules.user_id checks it (after authentication).
_USER_ID_SCHEMA = {"pattern": f"^{rules.USER_ID.pattern}$", "minLength": 1, "maxLength": 64}

# A query parameter or header that may be left out is documented by its type alone: a header
# or a query string cannot hold null, and Litestar would say `oneOf: [T, null]` for `T | None`.
_STRING: dict[str, object] = {"one_of": None, "type": OpenAPIType.STRING}
# Bounds as integers: Litestar writes ge/le as floats (2**63 - 1 became 9.223372036854776e+18).
POSITION_SCHEMA: dict[str, object] = {
    "one_of": None,
    "type": OpenAPIType.INTEGER,
    "minimum": 0,
    "maximum": MAX_POSITION,
}

UserId = Annotated[str, Parameter(description=rules.USER_ID_RULE, schema_extra={**_USER_ID_SCHEMA})]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        max_length=100,
        description='An ETag such as "3", or *',
        # Documented here, checked in if_match.
        schema_extra={**_STRING, "pattern": r'^\s*(\*|(W/)?"[0-9]{1,9}")\s*$'},
    ),
]
After = Annotated[
    int,
    QueryParameter(
        ge=0, le=MAX_POSITION, description="the last position seen", schema_extra=POSITION_SCHEMA
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, schema_extra={"minimum": 1, "maximum": 1000})]
EventType = Annotated[
    str | None,
    QueryParameter(
        name="type",
        max_length=64,
        description="one event type only",
        schema_extra={"enum": sorted(EVENT_TYPES)},
    ),
]
UserFilter = Annotated[
    str | None,
    QueryParameter(name="user_id", description="one user's only", schema_extra={**_USER_ID_SCHEMA}),
]


def if_match(header: str | None) -> int | None:
    """The version an If-Match header expects, or None for no precondition (absent or `*`)."""
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.fullmatch(header)
    if match is None:
        raise bad_input("If-Match", 'must be an ETag such as "3", or *')
    return int(match.group(1))


def etag_matches(header: str | None, version: int) -> bool:
    """Whether an If-None-Match header names this version (or `*`)."""
    if header is None:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == f'"{version}"':
            return True
    return False


def event_type(value: str | None) -> str | None:
    """An event type filter: one of the known types, or None for all."""
    if value is not None and value not in EVENT_TYPES:
        raise bad_input("type", f"must be one of {', '.join(EVENT_TYPES)}")
    return value


def last_event_id(header: str) -> int:
    """The position a reconnecting stream client last saw."""
    match = _POSITION.fullmatch(header)
    if match is None or int(match.group(1)) > MAX_POSITION:
        raise bad_input("Last-Event-ID", "must be an event position this stream sent")
    return int(match.group(1))
