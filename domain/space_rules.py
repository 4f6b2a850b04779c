"""The confidentiality of documents: masks (MASQUE_PS), secrecy from representatives
(INVISIBLE_REPRESENTANTS_LEGAUX) and announcement holds (INVISIBLE_PATIENT).

``SpaceRules`` is a part of ``Space`` (see ``domain.space_life`` for how the parts share
one aggregate and one event namespace). Commands on a document first ask the policy
whether the actor may see it: a document someone may not see answers exactly like one
that does not exist (``UnknownDocument``), whatever the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.periods import Periods, add_months
from domain.policy import decide_read
from domain.records import Announcement, Document
from domain.values import Actor
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownDocument
from wire.values import Role, require_aware


class SpaceRules(Aggregate):
    """Commands and events of documents' confidentiality (mixed into ``Space``)."""

    # -- documents: masks and secrecy codes ------------------------------------------

    def _visible_document(self, document_id: UUID, actor: Actor, at: datetime) -> Document:
        if not decide_read(self, document_id, actor, at).allowed:  # type: ignore[arg-type]
            raise UnknownDocument("no such document in this space")
        document: Document = self.documents[document_id]  # type: ignore[attr-defined]
        return document

    def _is_author(self, document: Document, actor: Actor) -> bool:
        return actor.role in (Role.PROFESSIONAL, Role.SERVICE) and actor.id == document.author.id

    def set_codes_at_deposit(
        self,
        document_id: UUID,
        *,
        masked: bool,
        hidden_from_representatives: bool,
        held: bool,
        periods: Periods,
        actor: Actor,
        at: datetime,
    ) -> None:
        """The depositor's confidentiality codes, recorded with a new document.

        No visibility check: the author has just deposited it (even a blocked author
        may deposit). Holding for an announcement is a professional's act; a
        representative cannot keep a document from representatives.
        """
        require_aware(at, field="at")
        document = self.documents.get(document_id)  # type: ignore[attr-defined]
        fresh = document is not None and len(document.versions) == 1
        if not fresh or (document.author.role, document.author.id) != (actor.role, actor.id):
            raise Conflict("codes are set with a new document, by its depositor")
        if held and actor.role not in (Role.PROFESSIONAL, Role.SERVICE):
            raise InvalidInput(
                "only professionals hold a document for an announcement", field="held"
            )
        if hidden_from_representatives and actor.role is Role.REPRESENTATIVE:
            raise InvalidInput("a representative cannot hide from representatives", field="secret")
        if masked:
            self.trigger_event(self.Masked, document_id=document_id, actor=actor.to_dict(), at=at)
        if hidden_from_representatives:
            self.trigger_event(
                self.HiddenFromRepresentatives,
                document_id=document_id,
                actor=actor.to_dict(),
                at=at,
            )
        if held:
            self.trigger_event(
                self.HeldForAnnouncement,
                document_id=document_id,
                notice_at=at + periods.announcement_notice,
                visible_at=add_months(at, periods.announcement_months),
                actor=actor.to_dict(),
                at=at,
            )

    def mask(self, document_id: UUID, actor: Actor, at: datetime) -> None:
        """MASQUE_PS: hide a document from professionals (the holder, or its author)."""
        require_aware(at, field="at")
        self._require_open(at)  # type: ignore[attr-defined]
        document = self._visible_document(document_id, actor, at)
        if not (self.is_holder(actor, at) or self._is_author(document, actor)):  # type: ignore[attr-defined]
            raise Forbidden("only the patient, a representative or the author masks a document")
        if not document.masked:
            self.trigger_event(self.Masked, document_id=document_id, actor=actor.to_dict(), at=at)

    class Masked(Aggregate.Event):
        """A document was masked from professionals (MASQUE_PS)."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].masked = True

    def unmask(self, document_id: UUID, actor: Actor, at: datetime) -> None:
        """Show a masked document to professionals again (the holder only)."""
        require_aware(at, field="at")
        self._require_open(at)  # type: ignore[attr-defined]
        self._require_holder(actor, at)  # type: ignore[attr-defined]
        document = self._visible_document(document_id, actor, at)
        if document.masked:
            self.trigger_event(self.Unmasked, document_id=document_id, actor=actor.to_dict(), at=at)

    class Unmasked(Aggregate.Event):
        """A document is no longer masked from professionals."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].masked = False

    def hide_from_representatives(self, document_id: UUID, actor: Actor, at: datetime) -> None:
        """INVISIBLE_REPRESENTANTS_LEGAUX: the patient (a minor) or the author keeps a
        document secret from the legal representatives (CSP R1111-50). Never lifted by a
        representative; there is deliberately no command that lifts it."""
        require_aware(at, field="at")
        self._require_open(at)  # type: ignore[attr-defined]
        document = self._visible_document(document_id, actor, at)
        if not (self.is_patient(actor) or self._is_author(document, actor)):  # type: ignore[attr-defined]
            raise Forbidden("only the patient or the author keeps a document from representatives")
        if not document.hidden_from_representatives:
            self.trigger_event(
                self.HiddenFromRepresentatives,
                document_id=document_id,
                actor=actor.to_dict(),
                at=at,
            )

    class HiddenFromRepresentatives(Aggregate.Event):
        """A document became invisible to legal representatives."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].hidden_from_representatives = True

    def hold_for_announcement(
        self, document_id: UUID, periods: Periods, actor: Actor, at: datetime
    ) -> None:
        """INVISIBLE_PATIENT: the author holds a document until an announcement
        consultation; the patient is told after two weeks, sees it after a month."""
        require_aware(at, field="at")
        self._require_open(at)  # type: ignore[attr-defined]
        document = self._visible_document(document_id, actor, at)
        if not self._is_author(document, actor):
            raise Forbidden("only the author holds a document for an announcement")
        if document.announcement is None:
            self.trigger_event(
                self.HeldForAnnouncement,
                document_id=document_id,
                notice_at=at + periods.announcement_notice,
                visible_at=add_months(at, periods.announcement_months),
                actor=actor.to_dict(),
                at=at,
            )

    class HeldForAnnouncement(Aggregate.Event):
        """A document is invisible to the patient until ``visible_at`` or its release."""

        document_id: UUID
        notice_at: datetime
        visible_at: datetime
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].announcement = Announcement(
                notice_at=self.notice_at, visible_at=self.visible_at
            )

    def release_to_patient(self, document_id: UUID, actor: Actor, at: datetime) -> None:
        """The author releases a held document (the announcement consultation took place)."""
        require_aware(at, field="at")
        document = self._visible_document(document_id, actor, at)
        if not self._is_author(document, actor):
            raise Forbidden("only the author releases a held document")
        if not document.awaiting_announcement(at):
            raise Conflict("the document is not held for an announcement")
        self.trigger_event(
            self.ReleasedToPatient, document_id=document_id, actor=actor.to_dict(), at=at
        )

    class ReleasedToPatient(Aggregate.Event):
        """A held document became visible to the patient (released, or a month passed)."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].announcement.released_at = self.at

    class AnnouncementNoticeSent(Aggregate.Event):
        """The patient was told a document awaits an announcement consultation."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].announcement.notice_sent_at = self.at
