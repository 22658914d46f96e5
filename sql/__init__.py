"""Plain SQL files: numbered migrations in this folder and named queries under queries/.

Queries are written as in aiosql: a `-- name: NAME` line opens each one.
"""

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def migrations() -> list[tuple[str, str]]:
    """(file name, SQL) of every migration, in the order they apply."""
    files = sorted(p for p in SQL_DIR.iterdir() if _MIGRATION.match(p.name))
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


@cache
def queries(module: str) -> dict[str, str]:
    """The named queries of queries/<module>.sql."""
    text = (SQL_DIR / "queries" / f"{module}.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)
    found = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    if not found:
        raise ValueError(f"no named queries in {module}.sql")
    return found
