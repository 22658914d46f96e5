"""The domain's input rules, which a type alone cannot say: trimmed titles, bounded text, no
NUL, user ids. The API, the command line and the domain all check them here."""

import re

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
USER_ID = re.compile(r"[A-Za-z0-9._@-]{1,64}")
USER_ID_RULE = "1 to 64 characters of A-Z a-z 0-9 . _ @ -"
TITLE_RULE = f"must be 1 to {TITLE_MAX} characters once trimmed"
DESCRIPTION_RULE = f"must be at most {DESCRIPTION_MAX} characters"


class InvalidInput(Exception):
    """A value the rules refuse: which field, and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


def user_id(value: str) -> str:
    if not USER_ID.fullmatch(value):
        raise InvalidInput("user_id", f"must be {USER_ID_RULE}")
    return value


def _no_nul(field: str, value: str) -> None:
    # PostgreSQL text and jsonb cannot hold NUL: refused here, not as a 500 from the insert.
    if "\x00" in value:
        raise InvalidInput(field, "must not contain the NUL character")


def title(value: str) -> str:
    _no_nul("title", value)
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= TITLE_MAX:
        raise InvalidInput("title", TITLE_RULE)
    return trimmed


def description(value: str | None) -> str | None:
    if value is not None:
        _no_nul("description", value)
        if len(value) > DESCRIPTION_MAX:
            raise InvalidInput("description", DESCRIPTION_RULE)
    return value
