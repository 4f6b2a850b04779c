"""The scheduler: records what falls due with time, as events, space by space.

RULES.md's time-based rules already hold at their instant without it (the policy
compares instants, see ``domain.reads``); the scheduler records that the moment came
(``Opened``, ``AnnouncementNoticeSent``, ``ReleasedToPatient``, ``RepresentationEnded``)
and performs the rules that must act: shredding an archive whose deletion came due, and
finishing the shredding of a deleted document (its keys and blobs) if it was cut short.

It knows when to come back without loading every space: it follows the events that
set a deadline (``OpeningScheduled``, ``HeldForAnnouncement``, ``RepresentativeAdded``,
``Closed``, ``DeletionRequested``) through the notification log from its position, keeps
their instants in a heap, and on each run visits only the spaces with an instant that
has passed. A new process starts from position 0 and so revisits every past deadline
once: harmless (``apply_due`` records nothing twice), and it is what finishes a
shredding interrupted between its record and the key's destruction.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.utils import get_topic

from domain.space import Space
from vault.service import Vault
from wire.dto import DueReport
from wire.errors import CoffreError, InvalidInput

log = structlog.get_logger(__name__)

PAGE = 1000


def _deadlines(event: Any) -> list[datetime]:
    if isinstance(event, Space.OpeningScheduled):
        return [event.opens_at]
    if isinstance(event, Space.HeldForAnnouncement):
        return [event.notice_at, event.visible_at]
    if isinstance(event, Space.RepresentativeAdded | Space.RepresentativeAppointed):
        return [event.until] if event.until is not None else []
    if isinstance(event, Space.Closed | Space.DeletionRequested):
        return [event.deletion_due_at]
    if isinstance(event, Space.DocumentDeleted):
        return [event.at]  # due at once: finishes a document's shredding cut short
    return []


TOPICS = [
    get_topic(kind)
    for kind in (
        Space.OpeningScheduled,
        Space.HeldForAnnouncement,
        Space.RepresentativeAdded,
        Space.RepresentativeAppointed,
        Space.Closed,
        Space.DeletionRequested,
        Space.DocumentDeleted,
    )
]


class Scheduler:
    """Applies what fell due, one ``run_once`` at a time (``coffre scheduler run``)."""

    def __init__(self, vault: Vault, *, start: int = 0) -> None:
        """``start``: the notification id after which to follow deadlines (0: all)."""
        self.vault = vault
        self.position = start
        self._due: list[tuple[datetime, str]] = []

    def run_once(self, now: datetime | None = None) -> DueReport:
        """Record everything due by ``now`` (default: the vault's clock); one pass."""
        moment = now or self.vault.clock.now()
        self._follow()
        spaces: dict[UUID, None] = {}
        while self._due and self._due[0][0] <= moment:
            _, space_id = heapq.heappop(self._due)
            spaces[UUID(space_id)] = None
        applied: dict[UUID, list[str]] = {}
        failed: dict[UUID, str] = {}
        for space_id in spaces:
            try:
                names = self.vault.apply_due(space_id, moment)
            except CoffreError as error:
                # Try again on the next run; one space must not stop the others.
                heapq.heappush(self._due, (moment, str(space_id)))
                failed[space_id] = error.code
                log.warning("scheduler_failed", space_id=str(space_id), error=error.code)
                continue
            if names:
                applied[space_id] = names
        return DueReport(applied, failed)

    def _follow(self) -> None:
        # Read the deadline-setting events stored since the last run.
        recorder, mapper = self.vault.recorder, self.vault.mapper
        while True:
            page = recorder.select_notifications(start=self.position + 1, limit=PAGE, topics=TOPICS)
            for notification in page:
                event = mapper.to_domain_event(notification)
                for instant in _deadlines(event):
                    heapq.heappush(self._due, (instant, str(event.originator_id)))
                self.position = notification.id
            if len(page) < PAGE:
                return


@dataclass(frozen=True)
class CollectReport:
    """What one blob collection removed."""

    orphans: int  # stored blobs no deposit names (their receipt expired unused)
    temporaries: int  # temporary files and multipart uploads of puts that never finished


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class BlobCollector:
    """Removes what interrupted uploads leave in the blob store, on its own schedule.

    Run by the scheduler's housekeeping (the projection workers, the embedded server's
    projection thread, ``coffre scheduler run``) every ``interval`` (zero: never) and by
    ``coffre blobs collect``. Orphans are collected only after ``orphan_grace`` (which
    must exceed the upload receipts' lifetime), temporaries after ``temporary_grace``
    (which must exceed the longest upload still running: with direct uploads, their
    lifetime, ``upload_ttl``). Both removals are idempotent,
    so two processes collecting at once do no harm.

    Ages are measured on the wall clock (``clock``), never the vault's: the stores stamp
    files and uploads with real time, and a vault on a manual clock (tests, replays)
    must not make a fresh upload look a day old.
    """

    def __init__(
        self,
        vault: Vault,
        *,
        interval: timedelta = timedelta(hours=1),
        orphan_grace: timedelta = timedelta(hours=24),
        temporary_grace: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        if orphan_grace < vault.upload_ttl:
            # A blob whose receipt is still valid may yet be deposited.
            raise InvalidInput(
                f"blob_orphan_grace ({orphan_grace}) must be at least the upload receipt "
                f"lifetime ({vault.upload_ttl})",
                field="blob_orphan_grace",
            )
        if vault.blobs.direct is not None and temporary_grace < vault.upload_ttl:
            # A direct upload may run until its ticket expires (vault.uploads): aborting
            # it sooner would break a deposit in progress.
            raise InvalidInput(
                f"blob_temporary_grace ({temporary_grace}) must be at least the direct "
                f"upload lifetime ({vault.upload_ttl})",
                field="blob_temporary_grace",
            )
        if temporary_grace <= timedelta(0):
            raise InvalidInput("blob_temporary_grace must be positive", field="temporary_grace")
        self.vault = vault
        self.interval = interval
        self.orphan_grace = orphan_grace
        self.temporary_grace = temporary_grace
        self.clock = clock
        self._next: datetime | None = None  # the first pass is due at once

    def run_if_due(self) -> CollectReport | None:
        """Collect if the interval has passed since the last pass; None if not due,
        disabled, or failed (logged, and tried again at the next interval)."""
        moment = self.clock()
        if self.interval <= timedelta(0) or (self._next is not None and moment < self._next):
            return None
        self._next = moment + self.interval
        try:
            return self.run()
        except CoffreError as error:
            log.warning("blobs_collect_failed", error=error.code)
            return None

    def run(self) -> CollectReport:
        """One pass: orphans, then temporaries."""
        blobs = self.vault.blobs
        log.info("blobs_collecting")
        moment = self.clock()
        # A blob past the grace can no longer be deposited (its receipt expired), so
        # what the deposits name cannot change between the listing and the check.
        candidates = list(blobs.names(older_than=moment - self.orphan_grace))
        referenced = self.vault.referenced_blobs() if candidates else set()
        orphans = [name for name in candidates if name not in referenced]
        for name in orphans:
            blobs.delete(name)
        temporaries = blobs.collect_temporaries(moment - self.temporary_grace)
        log.info("blobs_collected", orphans=len(orphans), temporaries=temporaries)
        return CollectReport(len(orphans), temporaries)
