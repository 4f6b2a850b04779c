"""Reading a download ahead of its decryption, in a thread of its own.

A read's ciphertext arrives from the network, is hashed (SHA-256, checked against the
recorded hash) and decrypted. Done in turn, the three add up; the socket's reads and
SHA-256 (``hashlib``) and the record decryption (libsodium through PyNaCl) all let go of
the GIL, so a second thread that reads and hashes while the caller's thread decrypts
overlaps them on two cores (``bench`` row 2). The thread stays at most ``depth`` pieces
ahead, so memory stays bounded whatever the document's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Self

__all__ = ["ReadAhead"]

#: pieces read ahead of the caller at most (64 KiB network pieces: 1 MiB)
DEPTH = 16


class _Failed:
    """The reading thread's exception, handed to the caller's thread to raise."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


class ReadAhead(Iterator[bytes]):
    """Iterate ``source`` from a daemon thread, calling ``each(piece)`` there for every
    piece before handing it over (the hashing), at most ``depth`` pieces ahead.

    The source's exceptions are raised by :meth:`__next__` in the caller's thread, as if
    it had iterated the source itself. :meth:`close` (or leaving the ``with`` block)
    stops the thread at its next piece: a caller that fails midway does not wait for the
    rest of the download.
    """

    def __init__(
        self,
        source: Iterable[bytes],
        each: Callable[[bytes], object],
        depth: int = DEPTH,
    ) -> None:
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(
            target=self._run, args=(source, each), name="coffre-read-ahead", daemon=True
        )
        self._thread.start()

    def _run(self, source: Iterable[bytes], each: Callable[[bytes], object]) -> None:
        try:
            for piece in source:
                each(piece)
                if not self._put(piece):
                    return
            self._put(_END)
        except BaseException as error:  # raised again in the caller's thread
            self._put(_Failed(error))

    def _put(self, item: object) -> bool:
        # False once the caller closed: nobody will take it
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            self._thread.join()  # finished: its hashing is complete
            raise StopIteration
        if isinstance(item, _Failed):
            self._done = True
            raise item.error
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop reading ahead; pieces not taken are dropped."""
        self._done = True
        self._stop.set()
        while True:  # unblock a thread waiting for room
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
