"""A TCP proxy the fault tests put between Coffre and a server (S3), to break the link.

Runs its own asyncio loop in a thread. ``mode`` decides what every connection, new or
pooled, sees from then on:

- ``pass``: bytes flow both ways;
- ``slow``: each piece is held ``delay`` seconds before it goes on;
- ``stall``: connections are accepted and bytes read, but nothing goes on (a server
  that hangs: only timeouts end a request);
- ``refuse``: every open connection is closed and the port stops listening
  (connection refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Literal

Mode = Literal["pass", "slow", "stall", "refuse"]

_PIECE = 64 * 1024


class Proxy:
    """Listens on ``127.0.0.1:port`` and forwards to ``target`` (``host``, ``port``)."""

    def __init__(self, port: int, target: tuple[str, int], delay: float = 0.3) -> None:
        self.port = port
        self.target = target
        self.delay = delay
        self.mode: Mode = "pass"
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._close())
        self._call(self._cancel_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def set(self, mode: Mode) -> None:
        """Switch every connection to ``mode`` (see the module's note)."""
        self.mode = mode
        if mode == "refuse":
            self._call(self._close())
        else:
            self._call(self._listen())

    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _cancel_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "refuse":
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pump(reader, upstream_writer),
            self._pump(upstream_reader, writer),
            return_exceptions=True,
        )
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while piece := await reader.read(_PIECE):
                while self.mode == "stall":
                    await asyncio.sleep(0.05)
                if self.mode == "slow":
                    await asyncio.sleep(self.delay)
                if self.mode == "refuse":
                    return
                writer.write(piece)
                await writer.drain()
            # half-close: the other side learns the end of this direction
            if writer.can_write_eof():
                writer.write_eof()
