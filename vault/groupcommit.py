"""Group commit: concurrent callers' records saved together, in one transaction.

Why: every read is recorded (invariant 2) as one small ``Access`` aggregate, and the
``eventsourcing`` PostgreSQL recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` for
every insert so that notification ids are issued in commit order. Concurrent reads
therefore commit one after another, each holding the table lock through its WAL flush.
Saving the records of every read waiting at that moment in one transaction pays the
lock and the flush once for all of them.

How (leader/follower combining, no timer, no thread of its own): a caller queues its
record. If nobody is leading, it leads: it takes what is queued (at most ``max_batch``
records, its own among them unless the queue is longer), saves it with one call, marks
every record of the batch done (or failed), wakes their callers, and hands leadership
to the oldest caller still waiting, whose batch is everything queued meanwhile. A lone
caller finds nobody leading and commits at once, so batches grow only with concurrency
and a quiet system sees no added latency.

The contract a caller relies on: ``submit`` returns only after the transaction holding
its record committed, and raises, in *every* caller of the batch, the error the save
raised. That is what lets the vault keep "no read without a record": a key is resealed
only after ``submit`` returned.

.. warning:: Batch only records that cannot conflict with each other (fresh aggregate
   ids, like ``Access``): one member's conflict would fail the whole batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

#: records saved in one transaction at most (bounds the statement and the lock hold)
MAX_BATCH = 256


class _Slot(Generic[T]):
    """One caller's record, its outcome, and the lock it sleeps on until woken."""

    __slots__ = ("done", "error", "record", "wake")

    def __init__(self, record: T) -> None:
        self.record = record
        self.done = False
        self.error: BaseException | None = None
        # Held from creation; released by the leader that saved this record, or by the
        # one that hands leadership to this caller. Waking exactly the callers concerned
        # costs less than a condition's notify_all, which wakes every waiter each batch.
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit(Generic[T]):
    """Combines concurrent ``submit(record)`` calls into ``save(batch)`` calls.

    ``save`` must store the whole sequence atomically (one transaction) or raise.
    ``batches`` and ``records`` count what was saved, for benchmarks and tests.
    """

    def __init__(self, save: Callable[[Sequence[T]], None], max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._save = save
        self.max_batch = max_batch
        self.batches = 0
        self.records = 0
        self._lock = threading.Lock()
        self._queue: list[_Slot[T]] = []
        self._saving = False  # True while some caller leads (from taking a batch to handing over)

    @property
    def pending(self) -> int:
        """Records queued and not yet taken into a batch."""
        with self._lock:
            return len(self._queue)

    def submit(self, record: T) -> None:
        """Return once ``record`` is committed; raise the save's error if its batch failed."""
        slot = _Slot(record)
        with self._lock:
            self._queue.append(slot)
            follow, self._saving = self._saving, True
        if follow:
            slot.wake.acquire()  # until our batch is saved, or leadership is handed to us
        if not slot.done:
            # We lead: save batches until ours is saved (it is in the first one unless more
            # than max_batch records were queued ahead of it), then hand over.
            while not slot.done:
                self._save_batch(slot)
            self._hand_over()
        if slot.error is not None:
            # Every member of a failed batch raises the same error, as waiters on one
            # concurrent.futures.Future do.
            raise slot.error

    def _save_batch(self, leader: _Slot[T]) -> None:
        # Only the leader runs this; callers keep queueing (the next batch) meanwhile.
        with self._lock:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
        error: BaseException | None = None
        try:
            self._save([slot.record for slot in batch])
        except BaseException as failure:  # handed to every caller of the batch
            error = failure
        for slot in batch:
            slot.done, slot.error = True, error
        with self._lock:
            self.batches += 1
            self.records += len(batch)
        for slot in batch:
            if slot is not leader:
                slot.wake.release()

    def _hand_over(self) -> None:
        # The oldest waiting caller leads next; with nobody waiting, the next caller to
        # submit finds no leader and saves at once.
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._saving = successor is not None
        if successor is not None:
            successor.wake.release()
