"""The API's input rules that a type alone cannot say: trimming, NUL, user ids, ETags."""

import re

from app.problems import bad_input
from app.schemas import DESCRIPTION_MAX, TITLE_MAX
from events.types import EVENT_TYPES

USER_ID = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,9})"\s*')
_POSITION = re.compile(r"\s*(\d{1,19})\s*")
MAX_POSITION = 2**63 - 1


def user_id(value: str) -> str:
    if not USER_ID.fullmatch(value):
        raise bad_input("user_id", "must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -")
    return value


def _no_nul(field: str, value: str) -> None:
    if "\x00" in value:
        raise bad_input(field, "must not contain the NUL character")


def title(value: str) -> str:
    _no_nul("title", value)
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= TITLE_MAX:
        raise bad_input("title", f"must be 1 to {TITLE_MAX} characters once trimmed")
    return trimmed


def description(value: str | None) -> str | None:
    if value is not None:
        _no_nul("description", value)
        if len(value) > DESCRIPTION_MAX:
            raise bad_input("description", f"must be at most {DESCRIPTION_MAX} characters")
    return value


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
