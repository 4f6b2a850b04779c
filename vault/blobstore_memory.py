"""The in-memory blob store: the shipped fake for tests and SDK users, thread-safe."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from vault.blobstore import (
    READ_CHUNK_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStream,
    check_cutoff,
    check_expiry,
    check_name,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MemoryBlobStore(BlobStore):
    """Keeps blobs in a dict. ``clock`` (returning aware datetimes) stamps each put."""

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._blobs: dict[str, tuple[bytes, datetime]] = {}

    def put(self, name: str, chunks: Iterable[bytes]) -> BlobInfo:
        """Stores the whole stream under name once it has been read without error."""
        check_name(name)
        digest = hashlib.sha256()
        buffer = bytearray()
        # Read outside the lock: a slow producer must not block other threads.
        for chunk in chunks:
            digest.update(chunk)
            buffer += chunk
        data = bytes(buffer)
        with self._lock:
            self._blobs[name] = (data, self._clock())
        return BlobInfo(name=name, size=len(data), sha256=digest.hexdigest())

    def open(self, name: str) -> BlobStream:
        """Streams the blob in pieces of at most 1 MiB."""
        data = self._get(name)
        # Bytes are immutable, so a later put or delete cannot change what this stream reads.
        pieces = (
            data[offset : offset + READ_CHUNK_SIZE]
            for offset in range(0, len(data), READ_CHUNK_SIZE)
        )
        return BlobStream(pieces, release=lambda: None)

    def size(self, name: str) -> int:
        """The blob's size in bytes."""
        return len(self._get(name))

    def delete(self, name: str) -> None:
        """Removes the blob if present."""
        check_name(name)
        with self._lock:
            self._blobs.pop(name, None)

    def names(self, *, older_than: datetime | None = None) -> Iterator[str]:
        """Names stored (before ``older_than``, if given), from a snapshot."""
        check_cutoff(older_than)
        with self._lock:
            snapshot = [
                name
                for name, (_, stored_at) in self._blobs.items()
                if older_than is None or stored_at < older_than
            ]
        return iter(snapshot)

    def url_for_get(self, name: str, expires: timedelta) -> str | None:
        """Always None: memory has no URLs."""
        check_name(name)
        check_expiry(expires)
        return None

    def _get(self, name: str) -> bytes:
        check_name(name)
        with self._lock:
            entry = self._blobs.get(name)
        if entry is None:
            raise BlobNotFound(f"no blob named {name}")
        return entry[0]
