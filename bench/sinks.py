"""Where a benchmark's reads go: nowhere. A module of its own so that the row-11 client
(``bench.memclient``, alone in its process) imports nothing of the server to get it."""

from __future__ import annotations

__all__ = ["NullSink"]


class NullSink:
    """A binary sink that keeps nothing (reads measure the transfer, not a disk)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        """Count and drop."""
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush."""
