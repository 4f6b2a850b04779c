"""Streams for puts to S3 (``vault.blobstore_s3``): a ``read()``-able view of a chunk
iterator that hashes what it hands out, one part at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


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
                if type(chunk) is not bytes:
                    # a producer may reuse its buffer for the next chunk, while this
                    # one's bytes wait in the part being gathered
                    chunk = bytes(chunk)
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
