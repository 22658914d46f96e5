#!/usr/bin/env python3
"""CPU per request, in process: our app or the shared ceiling app driven straight through
ASGI (no sockets, no HTTP parser, no wrk), `CONCURRENCY` requests in flight, and the
process's CPU time (time.process_time: every thread of this process, not PostgreSQL's)
divided by the requests. Wall-clock noise from other processes on the machine barely
moves it, so variants compare to a few µs: toggle one layer (a TASKS_* setting, a header)
and the difference is that layer's cost per request.

Usage (from the repository root, our venv; databases seeded as bench/run.sh seeds them):
  DATABASE_URL=... TASKS_AUTH_SECRET=... python bench/layers.py ours get [N]
  CEILING_DSN=...                      python bench/layers.py ceiling list [N]
Env: CONCURRENCY (32), WARMUP_REQUESTS (2000), LAYERS_HEADERS (extra "Name: value" lines,
e.g. an Idempotency-Key; "{n}" is replaced by the request's number).
Prints one line: target scenario requests cpu_us_per_request wall_req_per_s.
"""

import asyncio
import importlib.util
import itertools
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # the ceiling's folder may be read-only
ROOT = Path(__file__).resolve().parent.parent


def task_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012x}"


def requests(scenario: str, rng: random.Random) -> Any:
    """(method, path, body) for ever, as bench/wrk/<scenario>.lua sends them."""
    for n in itertools.count():
        if scenario == "get":
            t = rng.randint(1, 100_000)
            yield "GET", f"/api/u{(t - 1) % 5000 + 1}/tasks/{task_id(t)}", b""
        elif scenario == "list":
            yield "GET", f"/api/u{rng.randint(1, 5000)}/tasks", b""
        elif scenario == "create":
            body = b'{"title":"bench task %d","description":"created by the benchmark"}' % n
            yield "POST", f"/api/w{rng.randint(1, 1000)}/tasks", body
        elif scenario == "toggle":
            t = rng.randint(1, 100_000)
            yield "PATCH", f"/api/u{(t - 1) % 5000 + 1}/tasks/{task_id(t)}/complete", b""
        else:
            raise SystemExit(f"unknown scenario {scenario}")


class Tokens:
    """Bearer tokens for our app, minted once per user with the configured secret."""

    def __init__(self) -> None:
        from app.settings import Settings
        from app.tokens import current_secret, mint

        secret = current_secret(Settings())
        self._mint = lambda user: mint(secret, user)
        self._cache: dict[str, bytes] = {}

    def header(self, path: str) -> tuple[bytes, bytes]:
        user = path.split("/")[2]
        token = self._cache.get(user)
        if token is None:
            token = self._cache[user] = f"Bearer {self._mint(user)}".encode()
        return (b"authorization", token)


def load_app(target: str) -> Any:
    if target == "ours":
        from app.main import create_app

        return create_app()
    spec = importlib.util.spec_from_file_location(
        "ceiling_app", ROOT.parent / "shared" / "bench" / "ceiling" / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["ceiling_app"] = module
    spec.loader.exec_module(module)
    return module.app


async def lifespan(app: Any) -> tuple[asyncio.Queue[Any], asyncio.Task[Any]]:
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    outbox: asyncio.Queue[Any] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise SystemExit(f"start-up failed: {message}")
    return inbox, task


async def call(app: Any, method: str, path: str, body: bytes, headers: list[Any]) -> int:
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect: the request is never cut short
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(target: str, scenario: str, count: int) -> None:
    app = load_app(target)
    tokens = Tokens() if target == "ours" else None
    extra = [
        tuple(part.strip().encode() for part in line.split(":", 1))
        for line in os.environ.get("LAYERS_HEADERS", "").splitlines()
        if ":" in line
    ]
    inbox, life = await lifespan(app)
    rng = random.Random(1)
    source = requests(scenario, rng)
    statuses: dict[int, int] = {}
    numbers = itertools.count()
    concurrency = int(os.environ.get("CONCURRENCY", "32"))

    async def client(budget: list[int]) -> None:
        while budget[0] > 0:
            budget[0] -= 1
            method, path, body = next(source)
            n = next(numbers)
            headers = [(b"host", b"127.0.0.1:8000")]
            if body:
                headers.append((b"content-type", b"application/json"))
            if tokens:
                headers.append(tokens.header(path))
            headers.extend((k.lower(), v.replace(b"{n}", str(n).encode())) for k, v in extra)
            status = await call(app, method, path, body, headers)
            statuses[status] = statuses.get(status, 0) + 1

    warm = [int(os.environ.get("WARMUP_REQUESTS", "2000"))]
    await asyncio.gather(*(client(warm) for _ in range(concurrency)))
    statuses.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    budget = [count]
    await asyncio.gather(*(client(budget) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await inbox.put({"type": "lifespan.shutdown"})
    await life
    bad = {s: c for s, c in statuses.items() if not 200 <= s < 300}
    print(
        f"{target} {scenario} requests={count} cpu_us_per_request={cpu * 1e6 / count:.1f}"
        f" wall_req_per_s={count / wall:.0f}" + (f" non2xx={bad}" if bad else "")
    )


def main() -> None:
    target, scenario = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run(target, scenario, count))


if __name__ == "__main__":
    main()
