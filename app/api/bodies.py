"""Request bodies decoded strictly, and msgspec's errors put in words a user understands.

Litestar converts a handler's arguments with msgspec in lax mode (path and query values arrive
as strings), which would take `"true"`, `"0"` or `0` for a boolean in a body. So a body is
decoded here, strictly, against the type its handler declares; Litestar then gets the Struct.
"""

import re
from typing import Any

import msgspec

from events import rules
from events.rules import InvalidInput

# What a field's own rule says (events/rules.py), for the bound msgspec checks first.
_RULES = {"title": rules.TITLE_RULE, "description": rules.DESCRIPTION_RULE}
_TYPES = {
    "bool": "true or false",
    "str": "a string",
    "str | null": "a string or null",
    "int": "an integer",
    "float": "a number",
    "object": "a JSON object",
    "array": "a JSON array",
    "null": "null",
}
_EXPECTED = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def decode(body: bytes, body_type: type[msgspec.Struct]) -> msgspec.Struct:
    """The body as body_type: no coercion, no unknown fields; 400 naming the field if not."""
    require(body, body_type)
    try:
        return msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidInput(*field_error(str(exc), body_type)) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput("body", f"is not valid JSON ({exc})") from None


def require(body: bytes, body_type: type[msgspec.Struct]) -> None:
    """A handler that takes a body needs one (Litestar would report a missing `'data'`)."""
    if not body.strip():
        raise InvalidInput("body", f"is empty: send a JSON object, e.g. {_example(body_type)}")


def field_error(message: str, body_type: type[msgspec.Struct] | None = None) -> tuple[str, str]:
    """(field, message) from one msgspec validation message."""
    at = _AT.search(message)
    path = at.group("path") if at else ""
    message = message[: at.start()] if at else message
    if match := _MISSING.fullmatch(message):
        return _join(path, match["name"]), "is required"
    if match := _UNKNOWN.fullmatch(message):
        fields = ", ".join(body_type.__struct_fields__) if body_type else ""
        return _join(path, match["name"]), f"is not a field of this request (its fields: {fields})"
    field = path or "body"
    if field in _RULES and "length" in message:
        return field, _RULES[field]
    if match := _EXPECTED.fullmatch(message):
        return field, f"must be {words(match['want'])}, not {words(match['got'])}"
    return field, message


def words(msgspec_type: str) -> str:
    return _TYPES.get(msgspec_type, msgspec_type)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _example(body_type: type[msgspec.Struct]) -> str:
    return '{"title": "Buy milk"}' if "title" in body_type.__struct_fields__ else "{}"


def body_type(handler: Any) -> type[msgspec.Struct] | None:
    """The Struct a route handler takes as its body (`data`), if it takes one."""
    data = handler.parsed_fn_signature.parameters.get("data")
    annotation = getattr(data, "annotation", None)
    is_struct = isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)
    return annotation if is_struct else None
