#!/usr/bin/env python3
"""The readers connected to our service while bench/run.sh measures it (LISTENERS=1), and the feed
latency probe (issue 11, point 4). Stdlib only (run with the system python3).

- SSE clients on `GET /api/events/stream?after=SEED` (role auditor): `--global` of them on the whole
  log, the others on one user's events (`&user_id=`): the probe's user, then u1, u2, ...
- one feed reader paging `GET /api/events?after=N&limit=1000` from SEED on, as a tailing client does:
  the next page at once while pages are full, after `--feed-poll-ms` when it has caught up.
- with `--probe-rate R`: R creates a second for the user `--probe-user`, each timed from its 2xx
  (response read) to its TaskCreated arriving on each SSE stream that carries it (the global ones and
  the probe user's): p50 / p99 / max.

Everything is checked, not only counted: a global stream and the feed must hold exactly SEED+1,
SEED+2, ... (positions are dense: a gap is a skipped event, a repeat a duplicate); a user's stream
must ascend and hold exactly that user's positions in the feed; at the end (SIGTERM or SIGINT:
the measurement is over) the feed reads to the log's head and every stream must reach it.

Prints one line: `listeners ok=yes|no ...` (key=value), and exits 0 even when a check failed (the
line says so; bench/lib/report.py shows it). Exit 2: could not connect at all.

Usage: listeners.py --url http://127.0.0.1:8100 --tokens FILE --seed 100000 [--streams 8]
       [--global 6] [--probe-rate 50] [--probe-user w1000] [--ready-file F] [--drain-seconds 20]
"""

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import statistics
import sys
import time
from urllib.parse import urlsplit

FEED_PAGE = 1000


class Http:
    """One keep-alive HTTP/1.1 connection: enough of the protocol for uvicorn's answers."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def _send(self, method: str, path: str, body: bytes | None, accept: str) -> None:
        await self._connect()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: {accept}\r\n")
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        await self.writer.drain()

    async def _head(self) -> tuple[int, dict[str, str]]:
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                return status, headers
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()

    async def _chunks(self, headers: dict[str, str]):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await self.reader.readline()
                    return
                data = await self.reader.readexactly(size)
                await self.reader.readexactly(2)
                yield data
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if n:
                yield await self.reader.readexactly(n)
        else:  # read to the end
            while data := await self.reader.read(65536):
                yield data

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            await self._send(method, path, body, "application/json")
            status, headers = await self._head()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            self.close()  # a keep-alive connection the server closed: once more on a new one
            await self._send(method, path, body, "application/json")
            status, headers = await self._head()
        data = b"".join([c async for c in self._chunks(headers)])
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    async def stream(self, path: str):
        await self._send("GET", path, None, "text/event-stream")
        status, headers = await self._head()
        if status != 200:
            body = b"".join([c async for c in self._chunks(headers)])
            raise RuntimeError(f"GET {path} answered {status}: {body[:200]!r}")
        async for chunk in self._chunks(headers):
            yield chunk

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Run:
    def __init__(self, args: argparse.Namespace, tokens: dict[str, str]) -> None:
        u = urlsplit(args.url)
        self.host, self.port = u.hostname, u.port or 80
        self.args, self.tokens = args, tokens
        self.stopping = asyncio.Event()
        self.problems: list[str] = []
        # the feed reader
        self.feed_last = args.seed
        self.feed_pages = self.feed_events = 0
        self.feed_users: dict[str, list[int]] = {}  # positions of the per-user streams' users
        # the streams
        self.streams: list[dict] = []
        # the probe: task id -> monotonic time of its 2xx; samples in ms
        self.acked: dict[str, float] = {}
        self.probe_sent = self.probe_failed = 0
        self.latency_ms: list[float] = []
        self.early = 0  # events seen on a stream before their command's response was read

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)

    def http(self, user: str) -> Http:
        return Http(self.host, self.port, self.tokens[user])

    # --- the feed reader ------------------------------------------------------------------------------
    async def feed(self, until_head: bool = False) -> None:
        conn = self.http("@feed")
        try:
            while True:
                status, body = await conn.request("GET", f"/api/events?after={self.feed_last}&limit={FEED_PAGE}")
                if status != 200:
                    self.problem(f"feed answered {status}")
                    await asyncio.sleep(0.1)
                    continue
                page = json.loads(body)
                self.feed_pages += 1
                for e in page["events"]:
                    pos = e["position"]
                    if pos != self.feed_last + 1:
                        self.problem(f"feed: {pos} after {self.feed_last}")
                    self.feed_last = max(self.feed_last, pos)
                    self.feed_events += 1
                    if e["user_id"] in self.feed_users:
                        self.feed_users[e["user_id"]].append(pos)
                if page["next"] != self.feed_last:
                    self.problem(f"feed: next {page['next']} but last event {self.feed_last}")
                if len(page["events"]) < FEED_PAGE:
                    if until_head:
                        return
                    if self.stopping.is_set():
                        return
                    await asyncio.sleep(self.args.feed_poll_ms / 1000)
        finally:
            conn.close()

    # --- the SSE clients ------------------------------------------------------------------------------
    async def sse(self, s: dict, connected: asyncio.Event) -> None:
        path = f"/api/events/stream?after={self.args.seed}"
        if s["user"]:
            path += f"&user_id={s['user']}"
        conn = self.http("@feed")
        marker = f'"user_id":"{self.args.probe_user}"'
        buf, ev_id, ev_type, data = b"", None, None, None
        try:
            async for chunk in conn.stream(path):
                now = time.monotonic()
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    line = raw.rstrip(b"\r").decode()
                    if line.startswith("id:"):
                        ev_id = int(line[3:].strip())
                    elif line.startswith("event:"):
                        ev_type = line[6:].strip()
                    elif line.startswith("data:"):
                        data = line[5:].lstrip()
                    elif line.startswith(":"):
                        connected.set()
                    elif line == "" and ev_id is not None:
                        self.on_event(s, ev_id, ev_type, data, marker, now)
                        ev_id = ev_type = data = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            s["ended"] = f"{type(exc).__name__}: {exc}"
        else:
            s["ended"] = "the server ended the stream"
        finally:
            conn.close()

    def on_event(self, s: dict, pos: int, ev_type: str | None, data: str | None, marker: str, now: float) -> None:
        last = s["last"]
        if pos <= last:
            s["bad"] += 1
            self.problem(f"stream {s['name']}: {pos} after {last} (repeat or out of order)")
        elif s["user"] is None and pos != last + 1:
            s["bad"] += 1
            self.problem(f"stream {s['name']}: {pos} after {last} (skipped {pos - last - 1})")
        s["last"] = max(last, pos)
        s["events"] += 1
        if s["user"] is not None:
            s["positions"].append(pos)
        if ev_type == "TaskCreated" and data and marker in data and s["probe"]:
            task_id = json.loads(data)["stream_id"]
            acked = self.acked.get(task_id)
            if acked is None:
                self.early += 1
                s["early"].add(task_id)
            else:
                self.latency_ms.append((now - acked) * 1000)
        s["at"] = now

    # --- the probe ------------------------------------------------------------------------------------
    async def probe(self) -> None:
        """Open loop: a create every 1/rate s whatever the answers take (each on a free connection)."""
        free: list[Http] = []
        running: set[asyncio.Task] = set()
        period = 1 / self.args.probe_rate
        nxt = time.monotonic()
        while not self.stopping.is_set():
            conn = free.pop() if free else self.http(self.args.probe_user)
            task = asyncio.create_task(self.probe_one(conn, free))
            running.add(task)
            task.add_done_callback(running.discard)
            nxt += period
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))
        await asyncio.gather(*running)
        for conn in free:
            conn.close()

    async def probe_one(self, conn: Http, free: list[Http]) -> None:
        body = json.dumps({"title": f"probe {self.probe_sent}"}).encode()
        self.probe_sent += 1
        try:
            status, answer = await conn.request("POST", f"/api/{self.args.probe_user}/tasks", body)
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            self.probe_failed += 1
            self.problem(f"probe create failed: {type(exc).__name__}")
            conn.close()
            return
        now = time.monotonic()
        if status // 100 != 2:
            self.probe_failed += 1
            self.problem(f"probe create answered {status}")
        else:
            task_id = json.loads(answer)["id"]
            self.acked[task_id] = now
            # streams that saw it before the response was read: latency 0 (it was there first)
            for s in self.streams:
                if task_id in s["early"]:
                    s["early"].discard(task_id)
                    self.latency_ms.append(0.0)
        free.append(conn)

    # --- the run --------------------------------------------------------------------------------------
    async def main(self) -> str:
        a = self.args
        users = [a.probe_user] + [f"u{i}" for i in range(1, a.streams)]
        for i in range(a.streams):
            user = None if i < a.global_streams else users[i - a.global_streams]
            probe = a.probe_rate > 0 and (user is None or user == a.probe_user)
            self.streams.append({"name": f"g{i}" if user is None else f"user:{user}", "user": user,
                                 "last": a.seed, "events": 0, "bad": 0, "positions": [], "probe": probe,
                                 "early": set(), "ended": None, "at": 0.0})
            if user is not None:
                self.feed_users[user] = []
        connected = [asyncio.Event() for _ in self.streams]
        sse_tasks = [asyncio.create_task(self.sse(s, c)) for s, c in zip(self.streams, connected)]
        try:
            async with asyncio.timeout(15):
                await asyncio.gather(*(c.wait() for c in connected))
        except TimeoutError:
            ended = [s["ended"] for s in self.streams if s["ended"]]
            print(f"listeners: streams did not connect: {ended}", file=sys.stderr)
            sys.exit(2)
        feed_task = asyncio.create_task(self.feed())
        probe_task = asyncio.create_task(self.probe()) if a.probe_rate > 0 else None
        started = time.monotonic()
        if a.ready_file:
            with open(a.ready_file, "w") as f:
                f.write("ready\n")
        print("listeners: ready", file=sys.stderr, flush=True)

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        await self.stopping.wait()
        ran = time.monotonic() - started
        if probe_task:
            await probe_task
        await feed_task
        # The load has stopped: read the feed to the log's head, then every stream must reach it.
        await self.feed(until_head=True)
        head = self.feed_last
        deadline = time.monotonic() + a.drain_seconds
        def target(s: dict) -> int:
            if s["user"] is None:
                return head
            return self.feed_users[s["user"]][-1] if self.feed_users[s["user"]] else 0

        while time.monotonic() < deadline and any(s["last"] < target(s) and not s["ended"] for s in self.streams):
            await asyncio.sleep(0.05)
        for t in sse_tasks:
            t.cancel()
        await asyncio.gather(*sse_tasks, return_exceptions=True)
        return self.summary(head, ran)

    def summary(self, head: int, ran: float) -> str:
        g = [s for s in self.streams if s["user"] is None]
        per_user = [s for s in self.streams if s["user"] is not None]
        behind = [f"{s['name']}@{s['last']}" for s in g if s["last"] != head]
        for s in per_user:  # a user's stream: exactly that user's positions in the feed
            want = [p for p in self.feed_users[s["user"]] if p <= head]
            got = s["positions"]
            if got != want:
                s["bad"] += 1
                missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
                self.problem(f"stream {s['name']}: {len(got)} events, the feed has {len(want)} "
                             f"(missing {missing[:5]}, extra {extra[:5]})")
        for s in self.streams:
            if s["ended"]:
                self.problem(f"stream {s['name']} ended early: {s['ended']}")
        bad = sum(s["bad"] for s in self.streams)
        lat = sorted(self.latency_ms)
        n_probe = len(self.acked)
        expected = n_probe * sum(1 for s in self.streams if s["probe"])
        lost = expected - len(lat)  # probe events that never reached a stream that carries them
        if lost:
            self.problem(f"probe: {lost} of {expected} (event, stream) pairs never arrived")

        def pct(p: float) -> str:
            if not lat:
                return "-"
            return f"{lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]:.1f}"

        ok = not (bad or behind or lost or self.problems or self.probe_failed)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        fields = {
            "ok": "yes" if ok else "no",
            "sse": len(self.streams), "sse_global": len(g), "sse_user": len(per_user),
            "head": head, "events_expected": head - self.args.seed,
            "sse_global_events": "/".join(str(s["events"]) for s in g) or "-",
            "sse_user_events": "/".join(str(s["events"]) for s in per_user) or "-",
            "sse_bad": bad, "sse_behind": len(behind),
            "feed_events": self.feed_events, "feed_pages": self.feed_pages,
            "probe_rate": self.args.probe_rate, "probe_n": n_probe, "probe_failed": self.probe_failed,
            "probe_samples": len(lat), "probe_lost": lost,
            "probe_p50_ms": pct(50), "probe_p99_ms": pct(99),
            "probe_max_ms": f"{lat[-1]:.1f}" if lat else "-",
            "probe_mean_ms": f"{statistics.fmean(lat):.1f}" if lat else "-",
            "cpu_s": f"{ru.ru_utime + ru.ru_stime:.1f}", "secs": f"{ran:.1f}",
        }
        line = "listeners " + " ".join(f"{k}={v}" for k, v in fields.items())
        if self.problems or behind:
            print("listeners: problems: " + "; ".join(self.problems + [f"behind {b}" for b in behind]),
                  file=sys.stderr)
        return line


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--tokens", required=True, help="a file of 'user token' lines, with @feed (role auditor)")
    p.add_argument("--seed", type=int, required=True, help="the position of the last seeded event")
    p.add_argument("--streams", type=int, default=8)
    p.add_argument("--global", dest="global_streams", type=int, default=6)
    p.add_argument("--feed-poll-ms", type=float, default=50)
    p.add_argument("--probe-rate", type=float, default=0)
    p.add_argument("--probe-user", default="w1000")
    p.add_argument("--ready-file")
    p.add_argument("--drain-seconds", type=float, default=20)
    args = p.parse_args()
    tokens = {}
    for line in open(args.tokens):
        m = re.match(r"^(\S+)\s+(\S+)$", line.strip())
        if m:
            tokens[m.group(1)] = m.group(2)
    need = ["@feed"] + ([args.probe_user] if args.probe_rate > 0 else [])
    missing = [u for u in need if u not in tokens]
    if missing:
        print(f"listeners: no token for {missing} in {args.tokens}", file=sys.stderr)
        sys.exit(2)
    print(asyncio.run(Run(args, tokens).main()), flush=True)


if __name__ == "__main__":
    if sys.version_info < (3, 11):
        sys.exit("listeners.py needs Python 3.11+ (asyncio.timeout)")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
