"""The one clock every time-based rule reads; tests move it instead of sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant, always time-zone aware."""

    def now(self) -> datetime:
        """The current instant (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current instant (UTC)."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (shipped for tests and simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current instant of this clock."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new instant."""
        if delta < timedelta(0):
            raise ValueError("clocks do not go backwards")
        with self._lock:
            self._now += delta
            return self._now
