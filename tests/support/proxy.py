"""A TCP proxy in front of the real PostgreSQL that a test can cut and restore.

It lets a test make the database unreachable for one app without touching the
server every other test uses. It runs on its own thread and event loop, since the
test client blocks the test's loop while the app starts.
"""

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit


class DatabaseProxy:
    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url
        parts = urlsplit(upstream_url)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        self._unix = f"{socket_dir}/.s.PGSQL.{parts.port or 5432}" if socket_dir else None
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 5432
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._flowing.set()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def start(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        self._call(self._cut())

    def freeze(self) -> None:
        """Stop forwarding but keep every connection open and accept new ones, as a network
        that drops packets does (a partition): nothing is refused, nothing arrives."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def thaw(self) -> None:
        """Forward again, what was held first."""
        self._loop.call_soon_threadsafe(self._flowing.set)

    def close(self) -> None:
        """Break every connection and end the proxy's tasks before its loop stops, so no
        pending task is left for the garbage collector to report in a later test."""
        self.thaw()
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def url(self) -> str:
        parts = urlsplit(self.upstream_url)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{self.port}", parts.path, "", ""))

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _close(self) -> None:
        await self._cut()
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        await self._flowing.wait()
        if self._unix:
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
        else:
            up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)
