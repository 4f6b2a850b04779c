"""The scheduler: records what falls due with time, as events, space by space.

RULES.md's time-based rules already hold at their instant without it (the policy
compares instants, see ``domain.policy``); the scheduler records that the moment came
(``Opened``, ``AnnouncementNoticeSent``, ``ReleasedToPatient``, ``RepresentationEnded``)
and performs the one rule that must act: shredding an archive whose deletion came due.

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
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.utils import get_topic

from domain.errors import CoffreError
from domain.space import Space
from vault.dto import DueReport
from vault.service import Vault

log = structlog.get_logger(__name__)

PAGE = 1000


def _deadlines(event: Any) -> list[datetime]:
    if isinstance(event, Space.OpeningScheduled):
        return [event.opens_at]
    if isinstance(event, Space.HeldForAnnouncement):
        return [event.notice_at, event.visible_at]
    if isinstance(event, Space.RepresentativeAdded):
        return [event.until] if event.until is not None else []
    if isinstance(event, Space.Closed | Space.DeletionRequested):
        return [event.deletion_due_at]
    return []


TOPICS = [
    get_topic(kind)
    for kind in (
        Space.OpeningScheduled,
        Space.HeldForAnnouncement,
        Space.RepresentativeAdded,
        Space.Closed,
        Space.DeletionRequested,
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
