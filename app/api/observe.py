"""Request ids, one access-log line per request, and Prometheus metrics."""

import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

access_log = logging.getLogger("tasks.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


class StateCollector(Collector):
    """Connection pool use and leadership, read at scrape time."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
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


class Observer:
    """Wraps each HTTP request: assigns its id, echoes it, times it, logs and counts it."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

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
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            access_log.info(
                "%s %s %d %.1fms rid=%s", method, scope["path"], status, elapsed * 1000, rid
            )
