"""What holds up the event loop, measured for /metrics: how late the loop runs a timer
(loop lag), and how long the garbage collector stops the process (GC pauses); and the
start-up step that keeps full collections short (freeze_startup_heap)."""

import asyncio
import bisect
import contextlib
import gc
import time
from typing import Any

# Upper bounds (seconds) of the lag and pause histograms.
STALL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Counts:
    """Counts over STALL_BUCKETS (the last slot: over the largest), their sum and the max:
    plain numbers, read by the metrics collector at scrape time."""

    __slots__ = ("count", "counts", "max", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(STALL_BUCKETS) + 1)
        self.count = 0
        self.sum = 0.0
        self.max = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(STALL_BUCKETS, seconds)] += 1
        self.count += 1
        self.sum += seconds
        if seconds > self.max:
            self.max = seconds


class LoopLag:
    """A task that asks to wake every `interval` seconds and records how late it woke: the
    time the loop was busy with something else (a long callback, a GC pause, CPU starvation)
    when it should have run it. Any request waiting on the loop then waited as long."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.lag = Counts()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.lag.observe(max(loop.time() - due, 0.0))


class GcPauses:
    """Every collection's duration, by generation, from gc.callbacks. One per process: the
    collector is the process's, whichever app (tests run several) reads it."""

    def __init__(self) -> None:
        self.by_generation = [Counts() for _ in range(3)]
        self._started = 0.0
        self.ignoring = False  # the start-up collection below is not a pause of the service

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif not self.ignoring:
            self.by_generation[info["generation"]].observe(time.perf_counter() - self._started)

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)


GC_PAUSES = GcPauses()


def freeze_startup_heap() -> int:
    """Move every object alive after start-up (modules, the app, its routes, schemas, the
    pool...) to the collector's permanent generation, so full collections stop walking them:
    each full collection otherwise scanned them all again (~50 ms stalls, bench/REPORT.md).
    Garbage is collected first, so it is not kept forever. Returns the objects frozen."""
    GC_PAUSES.ignoring = True
    try:
        gc.collect()
    finally:
        GC_PAUSES.ignoring = False
    gc.freeze()
    return gc.get_freeze_count()
