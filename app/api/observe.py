"""Request ids, one access-log line per request, and Prometheus metrics."""

import logging
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any, TextIO

import msgspec
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from app.runtime.db import WAIT_BUCKETS
from app.runtime.stalls import GC_PAUSES, STALL_BUCKETS, Counts

ACCESS_LOGGER = "tasks.access"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def _buckets(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    """Prometheus's cumulative buckets from per-slot counts (the last slot: above all bounds)."""
    out: list[tuple[str, float]] = []
    total = 0
    for bound, count in zip(bounds, counts, strict=False):
        total += count
        out.append((repr(bound), total))
    out.append(("+Inf", total + counts[-1]))
    return out


def _histogram(family: HistogramMetricFamily, labels: list[str], h: Counts) -> None:
    family.add_metric(labels, _buckets(STALL_BUCKETS, h.counts), h.sum)


class StateCollector(Collector):
    """Connection pool use and waits, leadership, loop lag and GC pauses, read at scrape time."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def collect(self) -> Iterable[Metric]:
        pool = getattr(self._state, "pool", None)
        gauge = GaugeMetricFamily(
            "tasks_db_pool_connections", "Database pool connections", labels=["state"]
        )
        if pool is not None:
            size, idle = pool.get_size(), pool.get_idle_size()
            gauge.add_metric(["in_use"], size - idle)
            gauge.add_metric(["idle"], idle)
            gauge.add_metric(["max"], pool.get_max_size())
        yield gauge
        gate = getattr(pool, "gate", None)
        if gate is not None:
            wait = HistogramMetricFamily(
                "tasks_db_pool_wait_seconds",
                "Time a request waited for a pooled connection (first come, first served)",
            )
            counts = list(gate.wait_counts)
            counts[0] += gate.acquires - gate.waits  # served at once
            wait.add_metric([], _buckets(WAIT_BUCKETS, counts), gate.wait_seconds)
            yield wait
            yield GaugeMetricFamily(
                "tasks_db_pool_waiting", "Requests waiting for a connection now", gate.waiting
            )
            yield GaugeMetricFamily(
                "tasks_db_pool_wait_max_seconds", "Longest wait for a connection", gate.wait_max
            )
        loop_lag = getattr(self._state, "loop_lag", None)
        if loop_lag is not None:
            lag = HistogramMetricFamily(
                "tasks_event_loop_lag_seconds",
                f"How late the event loop ran a timer due every {loop_lag.interval:g} s",
            )
            _histogram(lag, [], loop_lag.lag)
            yield lag
            yield GaugeMetricFamily(
                "tasks_event_loop_lag_max_seconds",
                "Longest event loop lag since start",
                loop_lag.lag.max,
            )
        pauses = HistogramMetricFamily(
            "tasks_gc_pause_seconds",
            "Garbage collector pauses (the whole process stops) by generation",
            labels=["generation"],
        )
        for generation, h in enumerate(GC_PAUSES.by_generation):
            _histogram(pauses, [str(generation)], h)
        yield pauses
        yield GaugeMetricFamily(
            "tasks_gc_pause_max_seconds",
            "Longest garbage collector pause since start",
            max(h.max for h in GC_PAUSES.by_generation),
        )
        leader = getattr(self._state, "leader", None)
        if leader is not None:
            yield GaugeMetricFamily(
                "tasks_leader", "1 while this process runs the deployment's jobs", leader.is_leader
            )
            runs = CounterMetricFamily(
                "tasks_leader_job_runs", "Deployment job runs in this process", labels=["job"]
            )
            for name, count in leader.runs.items():
                runs.add_metric([name], count)
            yield runs
            yield CounterMetricFamily(
                "tasks_sequencer_moves",
                "Moves of committed events into the log by this process's background sequencer",
                leader.sequenced.moves,
            )
            yield CounterMetricFamily(
                "tasks_sequencer_events",
                "Events given their positions by this process's background sequencer",
                leader.sequenced.events,
            )


class Metrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self, state: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tasks_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tasks_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.events = Counter(
            "tasks_events_appended", "Events appended by type", ["type"], registry=self.registry
        )
        self.registry.register(StateCollector(state))

    def count_events(self, events: Iterable[object]) -> None:
        for event in events:
            self.events.labels(type(event).__name__).inc()


class NoTraceback(logging.Filter):
    """Keeps a library's log line but not its traceback, naming the exception's type instead:
    a traceback can quote SQL, data or connection settings, and a log line must not."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({type(exc).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True


# Loggers of libraries that log tracebacks on their own (asyncpg's pool does, while it
# reconnects after the database went away).
_TRACEBACK_LOGGERS = ("asyncpg", "asyncpg.pool", "asyncpg.connection")


def quiet_library_tracebacks() -> None:
    for name in _TRACEBACK_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoTraceback) for f in logger.filters):
            logger.addFilter(NoTraceback())


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class AccessLog:
    """One line per request, written without holding up the event loop.

    The loop only appends a tuple to a deque (well under a microsecond); a thread wakes every
    `interval` seconds, formats what has queued up and writes it in one call. Python's
    logging does more per line in the loop (a LogRecord; QueueHandler formats the message
    before queuing it) and a write per line in its listener thread, which at INFO cost a
    quarter of the requests per second (bench/REPORT.md). The lines look like the service's
    other log lines, with the request's fields as key=value (the path JSON-quoted, so a
    hostile path cannot forge a line):

        2026-12-01 07:40:01,123 INFO tasks.access: rid=9f0c... method=GET
        path="/api/alice/tasks" status=200 ms=1.84

    (app/logs.py's FORMAT, which the rest of the log uses.)

    Written to stderr, as the rest of the log; off unless the `tasks.access` logger is
    enabled for INFO (TASKS_LOG_LEVEL INFO or DEBUG). At most `capacity` lines wait: should
    the writer fall that far behind, the oldest are dropped (and counted) rather than
    memory grow without bound.
    """

    def __init__(
        self, stream: TextIO | None = None, interval: float = 0.05, capacity: int = 65_536
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.enabled = False
        self.dropped = 0
        self._capacity = capacity
        self._lines: deque[tuple[float, str, str, str, int, float]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.enabled = logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO)
        if self.enabled and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self.enabled = False
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def record(self, rid: str, method: str, path: str, status: int, seconds: float) -> None:
        if len(self._lines) >= self._capacity:
            try:
                self._lines.popleft()
                self.dropped += 1
            except IndexError:  # the writer thread emptied it meanwhile
                pass
        self._lines.append((time.time(), rid, method, path, status, seconds))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        lines = self._lines
        if not lines:
            return
        out = []
        popleft = lines.popleft
        while True:
            try:
                at, rid, method, path, status, seconds = popleft()
            except IndexError:  # emptied (record() may drop the oldest line at capacity)
                break
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
            out.append(
                f"{stamp},{int(at * 1000) % 1000:03d} INFO {ACCESS_LOGGER}: rid={rid}"
                f" method={method} path={_quote(path)} status={status} ms={seconds * 1000:.2f}\n"
            )
        stream = self.stream or sys.stderr
        try:
            stream.write("".join(out))
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the lines are lost
            pass


_quote_json = msgspec.json.Encoder().encode


def _quote(text: str) -> str:
    return _quote_json(text).decode()


class Observer:
    """Wraps each HTTP request: assigns its id, echoes it, times it, logs and counts it."""

    def __init__(self, metrics: Metrics, access_log: AccessLog) -> None:
        self.metrics = metrics
        self.access_log = access_log
        # Label children by (method, route) and (method, route, status): looking them up
        # through .labels() each time costs more than the count and the observation.
        self._latency: dict[tuple[str, str], Any] = {}
        self._requests: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any, app: Any) -> None:
        started = time.perf_counter()
        rid = request_id(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = rid
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(b"x-request-id", rid.encode())]
                if token := scope["state"].get("consistency_token"):
                    extra.append((b"x-consistency-token", token.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]
            key = (method, route, status)
            counter = self._requests.get(key)
            if counter is None:
                counter = self._requests[key] = self.metrics.requests.labels(
                    method, route, str(status)
                )
            counter.inc()
            histogram = self._latency.get(key[:2])
            if histogram is None:
                histogram = self._latency[key[:2]] = self.metrics.latency.labels(method, route)
            histogram.observe(elapsed)
            if self.access_log.enabled:
                self.access_log.record(rid, method, scope["path"], status, elapsed)
