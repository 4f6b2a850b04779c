"""Runs projections over the event store's notification log, in batches.

Each batch is one transaction holding the view rows *and* the new position, so a
worker killed at any point resumes exactly where its last commit left it. Committing
once per batch instead of once per event is what makes catch-up fast (see
``../shared/notes/eventsourcing-9.5.md``: ~20x).
"""

from __future__ import annotations

import bisect
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import structlog
from eventsourcing.application import Application

from projections.store import ViewCursor, ViewStore

log = structlog.get_logger(__name__)

Event = Any  # a domain event, as the mapper rebuilt it


class EventSource(Protocol):
    """The ordered log of every event; notification ids may have gaps."""

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """Up to ``limit`` events with notification id >= ``start``, in order."""
        ...

    def last_id(self) -> int:
        """The highest notification id stored (0 when empty)."""
        ...


class ApplicationSource:
    """An ``EventSource`` over an ``eventsourcing`` application's recorder."""

    def __init__(self, app: Application) -> None:
        self._recorder = app.recorder
        self._mapper = app.mapper

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """Up to ``limit`` events with notification id >= ``start``, in order."""
        notifications = self._recorder.select_notifications(start=start, limit=limit)
        return [(n.id, self._mapper.to_domain_event(n)) for n in notifications]

    def last_id(self) -> int:
        """The highest notification id stored (0 when empty)."""
        return self._recorder.max_notification_id() or 0


class Projection(ABC):
    """A view derived from events; disposable, rebuilt by replaying the log."""

    #: stable name, used as the tracking key
    name: str
    #: tables emptied by a rebuild
    tables: tuple[str, ...]

    @abstractmethod
    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""


class ProjectionRunner:
    """Moves each projection from its tracked position to the head of the log.

    ``catch_up`` reads and decodes each batch of the log once and hands it to every
    projection still behind the batch's end, each in its OWN transaction with its own
    position: a crash between two projections' commits leaves one of them a batch
    ahead, and the next pass gives the other exactly the events it lacks.
    """

    def __init__(
        self,
        source: EventSource,
        store: ViewStore,
        projections: Sequence[Projection],
        batch_size: int = 500,
        after_catch_up: Callable[[], object] | None = None,
    ) -> None:
        self.source = source
        self.after_catch_up = after_catch_up
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        #: seconds spent reading and decoding the log ("read") and applying and
        #: committing each projection's batches (by name), since this runner was made
        self.seconds: dict[str, float] = dict.fromkeys(["read", *self.projections], 0.0)
        self._lock = threading.Lock()

    def select(self, names: Sequence[str]) -> ProjectionRunner:
        """A runner of some of these projections only (one worker process per view)."""
        unknown = set(names) - set(self.projections)
        if unknown:
            raise KeyError(f"unknown projection(s): {', '.join(sorted(unknown))}")
        chosen = [self.projections[name] for name in names]
        return ProjectionRunner(
            self.source, self.store, chosen, self.batch_size, self.after_catch_up
        )

    def step(self, name: str) -> int:
        """Project one batch for ``name`` alone; returns how many events it covered."""
        with self._lock:
            batch = self._read(self.store.position(name) + 1)
            if batch:
                self._apply(name, batch)
            return len(batch)

    def catch_up(self, progress: Callable[[str, int, int], None] | None = None) -> int:
        """Project every event stored now, for every projection; returns the count.

        The count is summed over projections (an event given to three counts three).
        A projection whose batch fails is left where its last commit put it while the
        others go on to the head; the first failure is raised at the end.
        """
        total = 0
        failed: dict[str, Exception] = {}
        while True:
            with self._lock:
                names = [name for name in self.projections if name not in failed]
                positions = {name: self.store.position(name) for name in names}
                batch = self._read(min(positions.values()) + 1) if positions else []
                if not batch:
                    break
                ids = [notification_id for notification_id, _ in batch]
                moved: dict[str, int] = {}
                for name, position in positions.items():
                    # Only what follows this projection's own position: exactly once.
                    events = batch[bisect.bisect_right(ids, position) :]
                    if not events:
                        continue
                    try:
                        self._apply(name, events)
                    except Exception as error:  # rolled back; the others must go on
                        failed[name] = error
                        continue
                    moved[name] = len(events)
                    total += len(events)
            if progress and moved:
                head = self.source.last_id()
                for name in moved:
                    progress(name, ids[-1], head)
        if failed:
            raise next(iter(failed.values()))
        return total

    def _read(self, start: int) -> list[tuple[int, Event]]:
        began = time.perf_counter()
        batch = self.source.read(start, self.batch_size)
        self.seconds["read"] += time.perf_counter() - began
        return batch

    def _apply(self, name: str, events: Sequence[tuple[int, Event]]) -> None:
        """One projection's batch and its new position, in one transaction."""
        began = time.perf_counter()
        # Not durable: a server crash loses rows and position together (ViewStore).
        with self.store.transaction(durable=False) as cursor:
            self.projections[name].apply(cursor, events)
            cursor.track(name, events[-1][0])
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began

    def lag(self) -> dict[str, int]:
        """Events behind the head of the log, per projection (an upper bound: gaps count)."""
        head = self.source.last_id()
        return {name: max(0, head - self.store.position(name)) for name in self.projections}

    def rebuild(self, name: str) -> int:
        """Empty one projection's tables and replay it from the first event."""
        projection = self.projections[name]
        # One transaction: a crash mid-rebuild leaves the old view and position intact.
        with self._lock, self.store.transaction() as cursor:
            for table in projection.tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - names are ours, not input
            cursor.untrack(name)
        count = 0
        while (step := self.step(name)) > 0:
            count += step
        return count

    def run(self, stop: threading.Event, idle_sleep: float = 0.2) -> None:
        """Follow the log until ``stop`` is set, sleeping when there is nothing to do."""
        while not stop.is_set():
            try:
                moved = self.catch_up()
                if self.after_catch_up is not None:
                    self.after_catch_up()
            except Exception:
                # A failed batch rolled back; log it and try again rather than die.
                log.exception("projection_batch_failed")
                moved = 0
            if not moved:
                stop.wait(idle_sleep)

    def start_thread(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread (embedded mode); returns the thread and its stop flag."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="projections", daemon=True)
        thread.start()
        return thread, stop


def wait_for(runner: ProjectionRunner, timeout: float = 10.0) -> None:
    """Block until every projection has caught up with the log as it is now."""
    deadline = time.monotonic() + timeout
    head = runner.source.last_id()
    while any(runner.store.position(name) < head for name in runner.projections):
        if time.monotonic() > deadline:
            raise TimeoutError("projections did not catch up in time")
        runner.catch_up()
