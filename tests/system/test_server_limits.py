"""Hostile requests against a real server: bodies over the limit, and a log with no
traceback, SQL or secret in it."""

import asyncio
import socket

from tests.support.checks import TASK_ID, assert_4xx_problem, assert_tells_nothing
from tests.support.random_refs import random_user
from tests.support.servers import LiveServer
from tests.support.tokens import SECRET, bearer


async def test_a_chunked_body_over_64_kib_gets_413(live_server: LiveServer) -> None:
    user = random_user()

    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"title": "x", "description": "'
        for _ in range(100):
            yield b"d" * 1024
        yield b'"}'

    async with live_server.client() as client:
        response = await client.post(
            f"/api/{user}/tasks", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_4xx_problem(response, 413)
        assert (await client.get(f"/api/{user}/tasks")).json() == []


def test_an_announced_oversized_body_is_refused_before_it_is_sent(
    live_server: LiveServer,
) -> None:
    user = random_user()
    request = (
        f"POST /api/{user}/tasks HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {bearer(user)['Authorization']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(request.encode())  # and not one byte of the body
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


async def test_hostile_requests_leave_no_traceback_sql_or_secret_in_the_log(
    migrated_url: str,
) -> None:
    server = LiveServer(migrated_url, TASKS_LOG_LEVEL="INFO")
    user = random_user()
    try:
        server.wait_ready()
        async with server.client() as client:
            await asyncio.gather(
                client.post(f"/api/{user}/tasks", content=b"[" * 50_000),
                client.post(f"/api/{user}/tasks", json={"title": "'; SELECT pg_sleep(9); --"}),
                client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {SECRET}"}),
                client.get(f"/api/{user}/tasks", headers=bearer("someone-else")),
                client.get(f"/api/{user}/tasks/{TASK_ID}?as_of=%00"),
                client.put(f"/api/{user}/tasks/{TASK_ID}", json={"title": "\u0000"}),
            )
    finally:
        server.stop()
    log = server.log_text()
    assert f'method=POST path="/api/{user}/tasks"' in log  # the access log recorded them
    assert_tells_nothing(log)
