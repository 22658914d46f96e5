"""The advisory lock keys, as sql/functions/tasks_lock_key.sql defines them (the one place
they are written): `tasks migrate` needs its key before that function exists."""

import re
from functools import cache

import sql

_KEY = re.compile(r"WHEN '([a-z]+)' THEN RETURN (\d+);")


@cache
def lock_key(name: str) -> int:
    """The key tasks_lock_key(name) returns in SQL."""
    keys = {k: int(v) for k, v in _KEY.findall(sql.definition_text("functions/tasks_lock_key"))}
    return keys[name]
