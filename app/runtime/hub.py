"""The event hub: one listening connection per process (LISTEN/NOTIFY) wakes every stream
client of the process; each then asks the hub for its next page (app/api/sse.py), and clients
that ask for the same page after the same wake-up share one read."""

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

import asyncpg

from app.runtime.db import DATABASE_UNAVAILABLE, init_connection
from app.storage import event_store
from events.types import RecordedEvent

log = logging.getLogger("tasks.stream")

CHANNEL = "tasks_events"  # notify_events_appended
CLOSE_SECONDS = 2.0  # for the listening connection to close, when the service stops

# A page a client asks for: after which position, how many, whose events, of which type, how it
# is rendered, and the hub's wake-up count when it asked (see EventHub.read_page).
PageKey = tuple[int, int, str | None, str | None, Callable[[list[RecordedEvent]], Any], int]
R = TypeVar("R")


class EventHub:
    """Fans "something was appended" out to every stream client of this process.

    A NOTIFY is only a wake-up: clients re-read the log from their own position, so a
    lost or merged notification loses nothing. As a fallback (listener down, a missed
    notification) the hub checks the log's head every `poll_seconds` and wakes everyone
    when it moved.
    """

    def __init__(self, dsn: str, pool: asyncpg.Pool, *, poll_seconds: float) -> None:
        self._dsn = dsn
        self._pool = pool
        self._poll_seconds = poll_seconds
        self._waiters: set[asyncio.Event] = set()
        self._listener: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._head = -1
        self._polling_only = False
        self.stopping = False
        # Wake-ups so far; reads in flight, by page; the listening connection runs one at a time.
        self._generation = 0
        self._reads: dict[PageKey, asyncio.Future[Any]] = {}
        self._listener_busy = asyncio.Lock()

    def subscribe(self) -> asyncio.Event:
        """A wake-up flag for one client; the hub starts with its first client."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-hub")
        wake = asyncio.Event()
        self._waiters.add(wake)
        return wake

    def unsubscribe(self, wake: asyncio.Event) -> None:
        self._waiters.discard(wake)

    def _wake_all(self, *_: object) -> None:
        self._generation += 1
        for wake in self._waiters:
            wake.set()

    async def read_page(
        self,
        after: int,
        limit: int,
        user_id: str | None,
        type_name: str | None,
        render: Callable[[list[RecordedEvent]], R],
    ) -> R:
        """A client's next page: events after a position (one user's, one type's, or all),
        as `render` makes them (e.g. the stream's encoded messages).

        After a commit wakes them, the clients of a process mostly stand at the same position
        and ask for the same page: they share one read and one rendering, so a wake-up costs
        one query per distinct page, not one per client, and each event is encoded once. A
        client only joins a read that began after the last wake-up it was given (the key
        holds the wake-up count), so the shared page
        includes everything that woke it. The read runs on the hub's listening connection,
        beside the pool, so a stream's next page does not queue behind requests waiting for
        a pooled connection; on the pool while there is no listener.
        """
        key: PageKey = (after, limit, user_id, type_name, render, self._generation)
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(self._read(after, limit, user_id, type_name, render))
            self._reads[key] = read
            read.add_done_callback(lambda done: self._forget(key, done))
        # A client that goes away (cancelled) leaves the read to the others.
        page: R = await asyncio.shield(read)
        return page

    def _forget(self, key: PageKey, done: asyncio.Future[Any]) -> None:
        if self._reads.get(key) is done:
            del self._reads[key]
        if not done.cancelled():
            done.exception()  # retrieved: whoever awaited it has it; no "never retrieved" noise

    async def _read(
        self,
        after: int,
        limit: int,
        user_id: str | None,
        type_name: str | None,
        render: Callable[[list[RecordedEvent]], R],
    ) -> R:
        return render(await self._fetch(after, limit, user_id, type_name))

    async def _fetch(
        self, after: int, limit: int, user_id: str | None, type_name: str | None
    ) -> list[RecordedEvent]:
        listener = self._listener
        if listener is not None and not listener.is_closed():
            try:
                async with self._listener_busy:
                    return await event_store.read_feed(
                        listener, after=after, limit=limit, user_id=user_id, type_name=type_name
                    )
            except DATABASE_UNAVAILABLE as exc:
                if isinstance(exc, TimeoutError):
                    # A silent network: the connection may be gone for good, and a cancel
                    # would wait on it too. The hub's loop connects a new one.
                    listener.terminate()
                # The pool, below.
        async with self._pool.acquire() as conn:
            return await event_store.read_feed(
                conn, after=after, limit=limit, user_id=user_id, type_name=type_name
            )

    async def _run(self) -> None:
        while True:
            await self._listen()
            await asyncio.sleep(self._poll_seconds)
            if self._waiters and await self._head_moved():
                self._wake_all()

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            # The pool's client-side limit on a query: pages are read here too (read_page), and
            # over a network that drops packets nothing else would end the wait.
            self._listener = await asyncpg.connect(
                self._dsn,
                server_settings={"application_name": "tasks"},
                timeout=5,
                command_timeout=getattr(self._pool, "command_timeout", None),
            )
            await init_connection(self._listener)  # it reads pages too (read_page)
            await self._listener.add_listener(CHANNEL, self._wake_all)
        except (*DATABASE_UNAVAILABLE, asyncpg.PostgresError) as exc:
            if not self._polling_only:
                log.warning("cannot listen for new events (%s); polling", type(exc).__name__)
            if self._listener is not None:
                self._listener.terminate()
            self._listener, self._polling_only = None, True
            return
        if self._polling_only:
            log.info("listening for new events again")
        self._polling_only = False
        self._wake_all()  # events appended while nobody listened

    async def _head_moved(self) -> bool:
        try:
            async with self._pool.acquire() as conn:
                # Sequencing is the leader's (app/runtime/sequencer.py); while there is none
                # (a failover), the poll does it, so open streams still move on.
                await event_store.sequence(conn, wait=False)
                head = await event_store.head(conn)
        except DATABASE_UNAVAILABLE:
            return False
        moved, self._head = head != self._head, head
        return moved

    def end_streams(self) -> None:
        """Let every stream finish its response (the process is stopping)."""
        self.stopping = True
        self._wake_all()

    async def close(self) -> None:
        self.end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            # A polite close waits for the server's goodbye, which a silent network never
            # sends; past the limit asyncpg aborts the connection instead.
            with contextlib.suppress(TimeoutError):
                await self._listener.close(timeout=CLOSE_SECONDS)


def end_streams_on_stop(hub: EventHub) -> Callable[[], None]:
    """On SIGINT/SIGTERM, end every event stream, then run the server's own handler.

    Uvicorn waits for open responses before it stops, and a stream never ends by itself;
    ended on the signal, streams close cleanly and their clients resume elsewhere with
    Last-Event-ID. Returns a function that puts the previous handlers back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread (in-process test clients)
    loop = asyncio.get_running_loop()
    previous = {
        sig: signal.getsignal(sig) or signal.SIG_DFL for sig in (signal.SIGINT, signal.SIGTERM)
    }

    def on_stop(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(hub.end_streams)
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)
        else:  # SIG_DFL or SIG_IGN: behave as if this hook were not there
            signal.signal(signum, handler)
            signal.raise_signal(signum)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    for sig in previous:
        signal.signal(sig, on_stop)
    return restore
