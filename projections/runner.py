"""Runs projections over the event store's notification log, in batches.

Each batch is one transaction holding the view rows *and* the new position, so a
worker killed at any point resumes exactly where its last commit left it. Committing
once per batch instead of once per event is what makes catch-up fast (see
``../shared/notes/eventsourcing-9.5.md``: ~20x).
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError

from projections.source import Event, EventSource, UnstoredBatch
from projections.store import ViewCursor, ViewStore
from wire.errors import Unavailable

log = structlog.get_logger(__name__)


class PositionMovedBack(Exception):
    """A projection's stored position is behind the one the runner read before its batch
    (asynchronous commits lost in a server crash or failover): the batch is not applied,
    and the next pass starts again from the position the views' database holds."""


#: failures of the database itself (down, locked, failing over): the same batch is tried
#: again later. Any other error is the event's own, and stalls that projection there.
TRANSIENT = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    sqlite3.OperationalError,
    ConnectionError,
    TimeoutError,
    UnstoredBatch,
    PositionMovedBack,
)


@dataclass(frozen=True)
class Stall:
    """A projection stopped at an event it could not apply, until retried or rebuilt."""

    name: str
    notification_id: int
    #: the exception's type and the event's class: never the event's values, which may
    #: reveal health data (a title) and are looked up by ``notification_id`` instead
    error: str
    failed_at: datetime


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
        """Project one batch for ``name`` alone; returns how many events it covered.

        An event the projection cannot apply stalls it there, as in ``catch_up``.
        """
        with self._lock:
            if name in self.stalls():
                return 0
            since = self.store.position(name)
            batch = self._read(since + 1)
            if not batch:
                return 0
            try:
                self._apply(name, batch, since)  # events another runner projected are skipped
            except TRANSIENT:
                raise
            except Exception:
                return self._isolate(name, batch, since)
            return len(batch)

    def catch_up(self, progress: Callable[[str, int, int], None] | None = None) -> int:
        """Project every event stored now, for every projection; returns the count.

        The count is summed over projections (an event given to three counts three).
        A projection that meets an event it cannot apply projects every event before
        it, then stalls there alone (``stalls``; logged once as ``projection_stalled``)
        while the others go on: one poisoned event never takes the views, or the routes
        that read them, down for everyone. A projection whose batch fails because the
        database does is left where its last commit put it while the others go on, and
        ``Unavailable`` is raised at the end.
        """
        total = 0
        failed: dict[str, Exception] = {}
        stalled: set[str] = set()
        while True:
            with self._lock:
                # Read under the lock, each pass: another runner on this store (a
                # request's catch-up beside the background one) may have stalled one.
                stalled |= set(self.stalls())
                names = [
                    name for name in self.projections if name not in failed and name not in stalled
                ]
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
                        applied = self._apply(name, events, position)
                    except TRANSIENT as error:  # rolled back; the others must go on
                        failed[name] = error
                        continue
                    except Exception:  # rolled back: find the event, project up to it
                        applied = self._isolate(name, events, position)
                        stalled.add(name)
                    if applied:
                        moved[name] = applied
                        total += applied
            if progress and moved:
                head = self.source.last_id()
                for name in moved:
                    progress(name, ids[-1], head)
        if failed:
            name, error = next(iter(failed.items()))
            raise Unavailable(f"the {name} projection could not be applied now") from error
        return total

    def _isolate(self, name: str, events: Sequence[tuple[int, Event]], since: int) -> int:
        # The batch failed as a whole: apply its events one by one, so every event before
        # the one that fails is projected, and stall at that one. Returns how many moved.
        for done, item in enumerate(events):
            try:
                self._apply(name, [item], since)
                since = item[0]
            except TRANSIENT:
                return done  # the database, not the event: the next pass tries again
            except Exception as error:
                self._stall(name, item, error)
                return done
        return len(events)  # the batch failed, its events alone did not: nothing to stall

    def _stall(self, name: str, item: tuple[int, Event], error: Exception) -> None:
        notification_id, event = item
        what = f"{type(error).__name__} applying {type(event).__qualname__}"
        with self.store.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_failures (name, notification_id, error, failed_at) "
                "VALUES (%(n)s, %(i)s, %(e)s, %(t)s) ON CONFLICT (name) DO NOTHING",
                {"n": name, "i": notification_id, "e": what, "t": datetime.now(UTC).isoformat()},
            )
        # An alert, once: the projection does not retry until an operator says so.
        log.error(
            "projection_stalled", projection=name, notification_id=notification_id, error=what
        )

    def stalls(self) -> dict[str, Stall]:
        """The projections of this runner stopped at an event they could not apply."""
        rows = self.store.query(
            "SELECT name, notification_id, error, failed_at FROM projection_failures"
        )
        return {
            row["name"]: Stall(
                row["name"],
                int(row["notification_id"]),
                row["error"],
                datetime.fromisoformat(row["failed_at"]),
            )
            for row in rows
            if row["name"] in self.projections
        }

    def retry(self, name: str) -> bool:
        """Let a stalled projection try its event again (after a fix); False if not stalled."""
        if name not in self.projections:
            raise KeyError(f"unknown projection: {name}")
        with self._lock, self.store.transaction() as cursor:
            found = cursor.fetch(
                "SELECT name FROM projection_failures WHERE name = %(n)s", {"n": name}
            )
            cursor.execute("DELETE FROM projection_failures WHERE name = %(n)s", {"n": name})
        return bool(found)

    def _read(self, start: int) -> list[tuple[int, Event]]:
        began = time.perf_counter()
        batch = self.source.read(start, self.batch_size)
        self.seconds["read"] += time.perf_counter() - began
        return batch

    def _apply(self, name: str, events: Sequence[tuple[int, Event]], since: int) -> int:
        """One projection's batch and its new position, in one transaction.

        ``events`` are every event after ``since``, the position this runner read
        before. Only those after the position read under the projection's hold are
        applied: a runner in another process may have projected some since this one
        looked. Returns how many were applied.
        """
        began = time.perf_counter()
        # Not durable: a server crash loses rows and position together (ViewStore).
        with self.store.transaction(durable=False) as cursor:
            # A position must never pass an event the views' own database lacks: across
            # a failover the batch may come from the old primary (events its death left
            # visible there, never replicated) while this transaction is on the promoted
            # standby, whose sequence will give those ids to new events, skipped for
            # good. The batch's last event suffices: ids are committed in order (the
            # recorder locks the table to insert) and a standby holds a prefix of its
            # primary's log. Checked in the claim's round trip.
            position, stored = cursor.claim(name, self.source.stored_check(events[-1]))
            if position < since:
                # The position went back: the commits that had moved it were lost with
                # the server (asynchronous, above), after this runner read it. The
                # events between the two are not in ``events``; skipping them would
                # lose them for good. Read the position and the batch again.
                log.warning(
                    "projection_position_moved_back", projection=name, at=position, was=since
                )
                raise PositionMovedBack(f"{name} is at {position}, was read at {since}")
            events = [item for item in events if item[0] > position]
            if events:
                if not stored:
                    raise UnstoredBatch(f"event {events[-1][0]} is not in the views' database")
                self.projections[name].apply(cursor, events)
                cursor.track(name, events[-1][0])
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began
        return len(events)

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
            cursor.execute("DELETE FROM projection_failures WHERE name = %(n)s", {"n": name})
            cursor.untrack(name)
        count = 0
        while (step := self.step(name)) > 0:
            count += step
        stall = self.stalls().get(name)
        if stall is not None:
            raise Unavailable(
                f"the {name} projection stalled at event {stall.notification_id}: {stall.error}"
            )
        return count

    def run(self, stop: threading.Event, idle_sleep: float = 0.2, max_sleep: float = 10.0) -> None:
        """Follow the log until ``stop`` is set, sleeping when there is nothing to do.

        After a failure (the database, since an event's own failure stalls its
        projection instead) it waits longer each time, up to ``max_sleep``, so an
        outage is not logged several times a second.
        """
        pause = idle_sleep
        while not stop.is_set():
            try:
                moved = self.catch_up()
                if self.after_catch_up is not None:
                    self.after_catch_up()
                pause = idle_sleep
            except Exception as error:
                # A failed batch rolled back; log it and try again rather than die.
                log.warning(
                    "projection_batch_failed",
                    error=type(error).__name__,
                    # what the database said, under Unavailable (UnstoredBatch, say)
                    cause=type(error.__cause__).__name__ if error.__cause__ else None,
                )
                moved = 0
                pause = min(max_sleep, pause * 2)
            if not moved:
                stop.wait(pause)

    def start_thread(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread (embedded mode); returns the thread and its stop flag."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="projections", daemon=True)
        thread.start()
        return thread, stop


def wait_for(
    runner: ProjectionRunner, timeout: float = 10.0, names: Sequence[str] | None = None
) -> None:
    """Block until the projections ``names`` (every one by default) have caught up with
    the log as it is now.

    ``Unavailable`` (a 503 to a request, never a 500) when they do not within
    ``timeout`` seconds, or when one of them is stalled at an event: it will not move
    until an operator retries it (``coffre projections retry``), so waiting is
    pointless. A stalled projection the caller does not need is no reason to wait.
    """
    wanted = list(runner.projections) if names is None else list(names)
    deadline = time.monotonic() + timeout
    head = runner.source.last_id()
    while any(runner.store.position(name) < head for name in wanted):
        if time.monotonic() > deadline:
            raise Unavailable("the views are behind; try again shortly")
        runner.catch_up()
        stalls = {name: stall for name, stall in runner.stalls().items() if name in wanted}
        if stalls:
            raise Unavailable(
                f"the views are stalled ({', '.join(sorted(stalls))}); try again later"
            )
