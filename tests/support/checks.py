"""Checks the HTTP and system tests share: a problem answer that tells nothing it should
not, rows of a user, fresh idempotency keys."""

import re
import uuid

import asyncpg
import httpx

from app.storage import event_store
from tests.support.tokens import SECRET

# A task id no test creates.
TASK_ID = "7c1e2f6a-0000-4000-8000-000000000001"


def assert_4xx_problem(response: httpx.Response, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert_tells_nothing(response.text)


def assert_tells_nothing(text: str) -> None:
    """No traceback, SQL, secret or token in a response or log."""
    assert "Traceback" not in text
    assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE FROM|asyncpg|psycopg)\b", text), text
    assert SECRET not in text
    assert "Bearer ey" not in text and "eyJ" not in text


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid.uuid4()}"}


async def count(pool: asyncpg.Pool, table: str, user: str) -> int:
    assert table in ("events", "tasks", "idempotency_keys")
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        return await conn.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", user)
