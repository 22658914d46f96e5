"""The access log: one structured line per request, written by a thread, never by the loop."""

import asyncio
import io
import logging
import re
import threading
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.api.observe import ACCESS_LOGGER
from app.main import create_app
from app.settings import Settings
from tests.support.random_refs import random_user
from tests.support.servers import signed_client

LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO tasks\.access: rid=(?P<rid>\S+)"
    r' method=(?P<method>[A-Z]+) path=(?P<path>"(?:[^"\\]|\\.)*") status=(?P<status>\d{3})'
    r" ms=(?P<ms>\d+\.\d\d)"
)


@pytest.fixture
def access_at_info() -> Iterator[None]:
    """The tasks.access logger at INFO (as TASKS_LOG_LEVEL=INFO sets it) for one app, without
    turning the whole test session's logging up."""
    logger = logging.getLogger(ACCESS_LOGGER)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


async def test_one_line_per_request_with_id_method_path_status_and_duration(
    settings: Settings, access_at_info: None
) -> None:
    app = create_app(settings)
    stream = io.StringIO()
    app.state.access_log.stream = stream
    user = random_user()
    async with signed_client(app) as client:
        created = await client.post(
            f"/api/{user}/tasks", json={"title": "x"}, headers={"X-Request-ID": "req-1"}
        )
        await client.get(f"/api/{user}/tasks/not-a-uuid", headers={"X-Request-ID": "req-2"})
        await client.get("/api/a%22b%0Ac/tasks", headers={"X-Request-ID": "req-3"})
        await asyncio.sleep(0.2)  # the writer's batch interval is 50 ms
        written = stream.getvalue()
    assert created.status_code == 201
    lines = written.splitlines()
    fields = [LINE.fullmatch(line) for line in lines]
    assert all(fields), lines
    by_rid = {m["rid"]: m for m in fields if m}
    assert set(by_rid) == {"req-1", "req-2", "req-3"}
    assert (by_rid["req-1"]["method"], by_rid["req-1"]["path"], by_rid["req-1"]["status"]) == (
        "POST",
        f'"/api/{user}/tasks"',
        "201",
    )
    assert by_rid["req-2"]["status"] in {"400", "404"}
    # A hostile path cannot start a line of its own: it is quoted, its newline escaped.
    assert by_rid["req-3"]["path"] == '"/api/a\\"b\\nc/tasks"'
    assert float(by_rid["req-1"]["ms"]) > 0


async def test_at_warning_nothing_is_recorded(client: AsyncTestClient, app: Litestar) -> None:
    await client.get(f"/api/{random_user()}/tasks")
    access_log = app.state.access_log
    assert not access_log.enabled
    assert len(access_log._lines) == 0


class StuckStream(io.StringIO):
    """A stream whose writes block until released, as stderr does when nobody reads the pipe."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.blocked = threading.Event()

    def write(self, text: str) -> int:
        self.blocked.set()
        self.release.wait(10)
        return super().write(text)


async def test_a_stuck_log_stream_does_not_hold_up_requests(
    settings: Settings, access_at_info: None
) -> None:
    app = create_app(settings)
    stream = StuckStream()
    app.state.access_log.stream = stream
    user = random_user()
    try:
        async with signed_client(app) as client:
            await client.get(f"/api/{user}/tasks")
            assert await asyncio.to_thread(stream.blocked.wait, 5), "the writer is stuck"
            # The writer thread is blocked in write(): requests still complete, promptly.
            loop = asyncio.get_running_loop()
            started = loop.time()
            for _ in range(20):
                assert (await client.get(f"/api/{user}/tasks")).status_code == 200
            assert loop.time() - started < 3
            stream.release.set()
            await asyncio.sleep(0.2)
    finally:
        stream.release.set()
    assert len(stream.getvalue().splitlines()) == 21
