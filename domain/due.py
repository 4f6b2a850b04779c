"""What falls due with time, as the scheduler records it (RULES.md, time).

Every time-based rule already holds at its instant without an event (the read decision
compares instants); ``apply_due`` records that the moment came — the space opened, the
patient was told of a held document, the document became visible, a parent's
representation ended at majority — and shreds an archive whose deletion came due.
``due_instants`` tells the scheduler when to come back.
"""

from __future__ import annotations

from datetime import datetime

from domain.confidentiality import ConfidentialityCommands
from domain.life import LifeCommands
from domain.records import SpaceStatus
from domain.representatives import RepresentativeCommands
from domain.values import Actor
from wire.values import Role, require_aware

#: who records what the scheduler applies (opening, notices, majority, deletion)
SCHEDULER = Actor(Role.SERVICE, "coffre-scheduler", "Coffre scheduler")


class DueCommands(LifeCommands, ConfidentialityCommands, RepresentativeCommands):
    """The scheduler's side of ``Space`` (no events of its own)."""

    def due_instants(self) -> list[datetime]:
        """Every future instant at which ``apply_due`` may have something to record."""
        life = self.life
        instants: list[datetime] = []
        if life.status is SpaceStatus.PENDING:
            instants.append(life.opens_at)
        for document in self.documents.values():
            held = document.announcement
            if held is not None and held.released_at is None and not document.deleted:
                instants += [held.notice_at, held.visible_at]
        instants += [
            r.until for r in self.representatives.values() if r.until and r.ended_at is None
        ]
        if life.status is SpaceStatus.CLOSED and life.deletion_due_at is not None:
            instants.append(life.deletion_due_at)
        return instants

    def apply_due(self, now: datetime) -> list[str]:
        """Record what fell due by ``now``; returns the names of the events recorded.

        Opening at the deadline, announcement notices and releases, the end of a
        parent's representation at majority, and last, the shredding of an archive
        whose time came (the caller then destroys the key: see ``shred``).
        """
        require_aware(now, field="now")
        before = len(self.pending_events)
        scheduler = SCHEDULER.to_dict()
        if self.life.status is SpaceStatus.PENDING and self.life.opens_at <= now:
            self.trigger_event(self.Opened, actor=scheduler, at=now)
        if self.life.status is not SpaceStatus.DELETED:
            for document in self.documents.values():
                held = document.announcement
                if held is None or held.released_at is not None or document.deleted:
                    continue
                if held.notice_sent_at is None and held.notice_at <= now:
                    self.trigger_event(
                        self.AnnouncementNoticeSent,
                        document_id=document.id,
                        actor=scheduler,
                        at=now,
                    )
                if held.visible_at <= now:
                    self.trigger_event(
                        self.ReleasedToPatient, document_id=document.id, actor=scheduler, at=now
                    )
        for representation in self.representatives.values():
            until = representation.until
            if representation.ended_at is None and until is not None and until <= now:
                self.trigger_event(
                    self.RepresentationEnded,
                    representative_id=representation.representative.id,
                    reason="majority",
                    actor=scheduler,
                    at=now,
                )
        if self.life.deletion_due(now):
            self.shred(SCHEDULER, now)
        return [type(e).__name__ for e in self.pending_events[before:]]
