"""Streams for puts to S3 (``vault.blobstore_s3``): a ``read()``-able view of a chunk
iterator that hashes what it hands out, and a chunk stream that a put can send again
to another endpoint (``vault.blobstore_s3_failover``) while it has not gone too far.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from vault.blobstore import BlobStoreUnavailable


class CannotReplay(BlobStoreUnavailable):
    """A put failed after streaming more than could be sent again: nothing was stored."""


class HashingReader:
    """A read()-able view of a chunk iterator that counts and hashes what it hands out.

    ``read(n)`` gathers up to ``n`` bytes before returning: minio asks for a whole part at a
    time and concatenates what it gets, so returning small pieces would cost quadratic copying.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._source = iter(chunks)
        # A view of what is left of the current chunk: slicing it copies nothing. We ask the
        # source for its next chunk only once this one is used up, so a producer that reuses
        # its buffer is safe.
        self._pending = memoryview(b"")
        self._done = False
        self.size = 0
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left if ``n`` < 0); b"" at the end of the stream."""
        pieces: list[memoryview] = []
        wanted = n
        while wanted != 0 and (self._pending or not self._done):
            if not self._pending:
                # The caller's exceptions propagate from here; minio then aborts the upload.
                chunk = next(self._source, None)
                if chunk is None:
                    self._done = True
                    break
                self._pending = memoryview(chunk).cast("B")
                continue
            take = self._pending if wanted < 0 else self._pending[:wanted]
            self._pending = self._pending[len(take) :]
            pieces.append(take)
            if wanted > 0:
                wanted -= len(take)
        data = b"".join(pieces)
        self.size += len(data)
        self.digest.update(data)
        return data


class Replayable:
    """A chunk stream that can be read again from its start as long as no more than
    ``limit`` bytes were taken from the source: what a put sends before its first request
    (minio reads a whole part, plus one byte, before sending anything)."""

    def __init__(self, chunks: Iterable[bytes], limit: int) -> None:
        self._source = iter(chunks)
        self._held: list[bytes] = []
        self._held_size = 0
        self._limit = limit
        self._replayable = True

    def attempt(self) -> Iterator[bytes]:
        """The stream from its start; :class:`CannotReplay` if it was read too far."""
        if not self._replayable:
            raise CannotReplay("the put failed after streaming its first part; nothing was stored")
        held = list(self._held)

        def chunks() -> Iterator[bytes]:
            yield from held
            for chunk in self._source:
                if self._replayable and self._held_size <= self._limit:
                    # a copy: a producer may reuse its buffer for the next chunk
                    kept = bytes(chunk)
                    self._held.append(kept)
                    self._held_size += len(kept)
                    yield kept
                    continue
                if self._replayable:
                    # past the first part: this attempt can no longer be repeated
                    self._replayable = False
                    self._held = []
                yield chunk

        return chunks()
