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

A read needs its reader's devices as well as the space: readers are kept here too, and
``hold_with`` probes both in one round trip (one statement of two index lookups).

Why not eventsourcing's snapshots: a snapshot of a space of 5,000 documents is itself
one large JSON document to decode on every load, so the cost would still grow with the
space; and every record of the state would need a registered transcoding and upcasting
kept in step with the domain forever.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import AggregateRecorder, Mapper, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL

from domain.space import Space
from wire.errors import CoffreError

#: spaces kept per process before the least recently used one is dropped
DEFAULT_CAPACITY = 1024

#: events of all the cached aggregates together, past which the least recently used
#: are dropped: a count of spaces alone would let a few lifetimes of documents fill a
#: worker's memory (≈ 1 to 2 KiB per event held; the soak, bench/README.md)
DEFAULT_MAX_EVENTS = 200_000

Replay = Callable[[Any, Iterable[DomainEventProtocol[UUID]]], Any]
Events = list[DomainEventProtocol[UUID]]


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: the space (or reader) as last checked against the store; None once dropped
    space: Any = None


class SpaceCache:
    """Per-process cache of loaded spaces, validated by a version probe on each use."""

    def __init__(
        self,
        recorder: AggregateRecorder,
        mapper: Mapper[UUID],
        replay: Replay,
        capacity: int = DEFAULT_CAPACITY,
        max_events: int = DEFAULT_MAX_EVENTS,
    ) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._replay = replay
        self._capacity = capacity
        self.max_events = max_events
        self._entries: OrderedDict[UUID, _Entry] = OrderedDict()
        #: each cached aggregate's version (its number of events) when last loaded
        self._weights: dict[UUID, int] = {}
        #: the sum of ``_weights``: what the cache holds, in events
        self.weight = 0
        self._guard = threading.Lock()
        #: full replays of spaces from the store (misses, reloads after a drop): for tests
        self.replays = 0

    @contextmanager
    def hold(self, space_id: UUID) -> Iterator[Space | None]:
        """The space as stored now, held alone by the caller until the block ends.

        Yields ``None`` when no event is stored for ``space_id``. A command may change
        the space inside the block but must commit before leaving it: an exception, or
        events still pending at the end, drop the cached aggregate.
        """
        entry = self._entry(space_id)
        since = _version(entry)
        # The probe runs outside the lock so that readers of one space do not queue
        # behind each other's round trips; it is applied under the lock.
        newer = self._tails({space_id: since})[space_id]
        with self._held(entry, space_id, since, newer) as space:
            yield space

    @contextmanager
    def hold_with(self, space_id: UUID, other_id: UUID) -> Iterator[tuple[Space | None, Any]]:
        """``hold`` for the space, and the aggregate ``other_id`` (a reader) as stored
        now, both checked in one round trip; ``None`` for either when nothing is stored.

        The other aggregate is for reading only: it stays locked until the block ends
        (always after the space's lock, so two holders never wait on each other).
        """
        entry, other = self._entry(space_id), self._entry(other_id)
        since, other_since = _version(entry), _version(other)
        tails = self._tails({space_id: since, other_id: other_since})
        with self._held(entry, space_id, since, tails[space_id]) as space, other.lock:
            yield space, self._current(other, other_id, other_since, tails[other_id], count=False)

    @contextmanager
    def _held(self, entry: _Entry, space_id: UUID, since: int, newer: Events) -> Iterator[Any]:
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
            self._forget(space_id)

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, space_id: UUID) -> _Entry:
        with self._guard:
            entry = self._entries.get(space_id)
            if entry is None:
                entry = self._entries[space_id] = _Entry()
                if len(self._entries) > self._capacity:
                    self._forget(next(iter(self._entries)))
            else:
                self._entries.move_to_end(space_id)
            return entry

    def _weigh(self, aggregate_id: UUID, version: int) -> None:
        """Record what ``aggregate_id`` holds now, and drop the least recently used
        others while the cache holds more than ``max_events`` (never the one just used:
        a single space larger than the bound is still served, and dropped when the next
        one comes)."""
        with self._guard:
            if aggregate_id not in self._entries:
                return  # dropped meanwhile: its holder keeps its own reference
            self.weight += version - self._weights.get(aggregate_id, 0)
            self._weights[aggregate_id] = version
            while self.weight > self.max_events:
                oldest = next(iter(self._entries))
                if oldest == aggregate_id:
                    break
                self._forget(oldest)

    def _forget(self, aggregate_id: UUID) -> None:
        # under ``_guard``
        self._entries.pop(aggregate_id, None)
        self.weight -= self._weights.pop(aggregate_id, 0)

    def _tails(self, since: Mapping[UUID, int]) -> dict[UUID, Events]:
        stored = select_tails(self._recorder, since)
        return {
            aggregate_id: [self._mapper.to_domain_event(s) for s in stored[aggregate_id]]
            for aggregate_id in since
        }

    def _current(
        self, entry: _Entry, space_id: UUID, since: int, newer: Events, *, count: bool = True
    ) -> Any:
        space = entry.space
        if space is None or space.version < since:
            # Dropped meanwhile (or never loaded): the probe only has the tail.
            if since:
                newer = self._tails({space_id: 0})[space_id]
            self.replays += count
            space = self._replay(None, newer)
        else:
            # Another holder may have applied part of our tail already.
            space = self._replay(space, (e for e in newer if e.originator_version > space.version))
        entry.space = space
        self._weigh(space_id, space.version if space is not None else 0)
        return space


def _version(entry: _Entry) -> int:
    cached = entry.space
    return cached.version if cached is not None else 0


@lru_cache(maxsize=16)  # a process has one or two recorders; tests make more
def _tails_statement(recorder: PostgresAggregateRecorder, count: int) -> bytes:
    """The probe's statement for ``count`` aggregates, rendered once per recorder:
    composing and rendering it on every read cost ≈ 3 % of a read's CPU."""
    select = recorder.select_events_statement + SQL(" AND originator_version > %s")
    return SQL(" UNION ALL ").join([select] * count).as_bytes(None)


def select_tails(
    recorder: AggregateRecorder, since: Mapping[UUID, int]
) -> dict[UUID, list[StoredEvent]]:
    """The events stored after the given version of each aggregate, in order, fetched in
    one statement (one round trip) on PostgreSQL and SQLite: a ``UNION ALL`` of the
    recorder's own per-aggregate select, each an index range on the primary key."""
    found: dict[UUID, list[StoredEvent]] = {aggregate_id: [] for aggregate_id in since}
    if isinstance(recorder, PostgresAggregateRecorder):
        statement: Any = _tails_statement(recorder, len(since))
        params: list[Any] = [value for pair in since.items() for value in pair]
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, params, prepare=True)
            rows = cursor.fetchall()
    elif isinstance(recorder, SQLiteAggregateRecorder):
        select = recorder.select_events_statement + "AND originator_version>? "
        statement = " UNION ALL ".join([select] * len(since))
        params = [v for i, n in since.items() for v in (i.hex, n)]
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            rows = [
                {**row, "originator_id": recorder.convert_originator_id(row["originator_id"])}
                for row in cursor.fetchall()
            ]
    else:  # in memory (the unit tier): no round trip to save
        for aggregate_id, version in since.items():
            found[aggregate_id] = list(recorder.select_events(aggregate_id, gt=version or None))
        return found
    for row in sorted(rows, key=lambda row: (str(row["originator_id"]), row["originator_version"])):
        found[row["originator_id"]].append(
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
        )
    return found
