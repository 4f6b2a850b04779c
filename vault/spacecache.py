"""Loaded spaces kept per process, checked against the event store before each use.

Replaying a space costs time in proportion to its events (~86 µs per document); a
patient with thousands of documents would pay a third of a second per read. This cache
keeps each space's aggregate once replayed, and before every use asks the event store
for the events stored after the cached version (one indexed query on the primary key
``(originator_id, originator_version)``, usually empty) and applies them. So:

* a use never trusts a version it has not checked: a read that starts after a revoke
  returned (in this process or another one on the same database) sees the revoke
  (invariant 4), because the revoke's event was committed before the probe ran;
* a command runs on the cached aggregate while holding that space's lock, and the lock
  is released only after its save committed; if anything fails (a refused command, a
  conflicting or failed save, a command that left events unsaved) the cached aggregate
  is dropped, and the next use replays from the store. Nobody ever sees an aggregate
  carrying an event that was not committed;
* reads hold the same lock while they decide (pure Python, microseconds), never while
  they record, so the records of concurrent reads still share one transaction.

Why not eventsourcing's snapshots: a snapshot of a space of 5,000 documents is itself
one large JSON document to decode on every load, so the cost would still grow with the
space; and every record of the state would need a registered transcoding and upcasting
kept in step with the domain forever.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import AggregateRecorder, Mapper

from domain.space import Space
from wire.errors import CoffreError

#: spaces kept per process before the least recently used one is dropped
DEFAULT_CAPACITY = 1024

Replay = Callable[[Space | None, Iterable[DomainEventProtocol[UUID]]], Space | None]


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    space: Space | None = None


class SpaceCache:
    """Per-process cache of loaded spaces, validated by a version probe on each use."""

    def __init__(
        self,
        recorder: AggregateRecorder,
        mapper: Mapper[UUID],
        replay: Replay,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._replay = replay
        self._capacity = capacity
        self._entries: OrderedDict[UUID, _Entry] = OrderedDict()
        self._guard = threading.Lock()
        #: full replays from the store (misses, and reloads after a drop): for tests
        self.replays = 0

    @contextmanager
    def hold(self, space_id: UUID) -> Iterator[Space | None]:
        """The space as stored now, held alone by the caller until the block ends.

        Yields ``None`` when no event is stored for ``space_id``. A command may change
        the space inside the block but must commit before leaving it: an exception, or
        events still pending at the end, drop the cached aggregate.
        """
        entry = self._entry(space_id)
        cached = entry.space
        # The probe runs outside the lock so that readers of one space do not queue
        # behind each other's round trips; it is applied under the lock.
        since = cached.version if cached is not None else 0
        newer = self._events(space_id, since)
        with entry.lock:
            space = self._current(entry, space_id, since, newer)
            version = space.version if space is not None else 0
            try:
                yield space
            except CoffreError:
                # A refusal before any event leaves the aggregate as stored; after one,
                # the event was applied but never committed.
                if space is not None and space.version != version:
                    entry.space = None
                raise
            except BaseException:
                entry.space = None  # a failed save, or anything unforeseen
                raise
            if space is not None and space.pending_events:
                entry.space = None  # changed but not saved: not the stored state

    def drop(self, space_id: UUID) -> None:
        """Forget ``space_id`` (after changes made behind the cache's back)."""
        with self._guard:
            self._entries.pop(space_id, None)

    def _entry(self, space_id: UUID) -> _Entry:
        with self._guard:
            entry = self._entries.get(space_id)
            if entry is None:
                entry = self._entries[space_id] = _Entry()
                if len(self._entries) > self._capacity:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(space_id)
            return entry

    def _events(self, space_id: UUID, since: int) -> list[DomainEventProtocol[UUID]]:
        stored = self._recorder.select_events(space_id, gt=since or None)
        return [self._mapper.to_domain_event(s) for s in stored]

    def _current(
        self,
        entry: _Entry,
        space_id: UUID,
        since: int,
        newer: list[DomainEventProtocol[UUID]],
    ) -> Space | None:
        space = entry.space
        if space is None or space.version < since:
            # Dropped meanwhile (or never loaded): the probe only has the tail.
            if since:
                newer = self._events(space_id, 0)
            self.replays += 1
            space = self._replay(None, newer)
        else:
            # Another holder may have applied part of our tail already.
            space = self._replay(space, (e for e in newer if e.originator_version > space.version))
        entry.space = space
        return space
