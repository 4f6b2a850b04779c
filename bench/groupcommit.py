"""A bench-only prototype of group commit for the vault's read path (row 4).

Why: every ``Vault.read`` saves one ``Access`` aggregate in its own transaction, and the
``eventsourcing`` PostgreSQL recorder takes ``LOCK TABLE vault_events IN EXCLUSIVE MODE``
for every insert. Concurrent reads therefore commit one after another, each paying a
WAL flush while holding the table lock: PostgreSQL's own grouping of concurrent commits
never gets a chance.

What: reads hand their ``Access`` record to a combiner and wait. The first waiting
caller becomes the leader: it takes every record queued so far and saves them in ONE
``Application.save(*accesses)`` (one transaction, one lock, one flush), then wakes the
callers it committed for; whoever queued meanwhile forms the next batch. No timer and no
extra thread: a lone read commits at once, and batches grow only with concurrency.

Invariant 2 still holds: each caller returns from ``_save`` only after the transaction
holding its record committed, so no key is released before its read is durable; if the
batch fails, every caller in it gets the error and no key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from domain.access import Access
from vault.service import Vault

#: records saved per transaction at most
MAX_BATCH = 256


@dataclass
class _Slot:
    aggregate: Access
    done: bool = False
    error: BaseException | None = None


@dataclass
class GroupCommitter:
    """Leader/follower write combining over a ``save(*aggregates)`` callable."""

    save: Any
    max_batch: int = MAX_BATCH
    batches: int = 0
    records: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _queue: list[_Slot] = field(default_factory=list)
    _flushing: bool = False

    def submit(self, aggregate: Access) -> None:
        """Return once ``aggregate`` is committed (raise if its batch failed)."""
        slot = _Slot(aggregate)
        with self._cond:
            self._queue.append(slot)
            while not slot.done:
                if self._flushing:
                    self._cond.wait()
                    continue
                # lead: take what is queued (ours included) and commit it as one
                self._flushing = True
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                self._cond.release()
                error: BaseException | None = None
                try:
                    self.save(*(s.aggregate for s in batch))
                except BaseException as failure:
                    error = failure
                finally:
                    self._cond.acquire()
                for s in batch:
                    s.done, s.error = True, error
                self.batches += 1
                self.records += len(batch)
                self._flushing = False
                self._cond.notify_all()
        if slot.error is not None:
            raise slot.error


class GroupCommitVault(Vault):
    """``Vault`` whose access records (reads, refusals, log reads) are group-committed."""

    name = "vault"  # eventsourcing names an unpinned subclass's tables after the class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committer = GroupCommitter(super()._save)

    def _save(self, *aggregates: Any) -> None:
        if len(aggregates) == 1 and isinstance(aggregates[0], Access):
            self.committer.submit(aggregates[0])
        else:
            super()._save(*aggregates)
