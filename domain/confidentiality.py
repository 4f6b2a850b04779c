"""The three confidentiality codes of a document, one name each everywhere:

* ``masked`` (MASQUE_PS): hidden from professionals but its author (rule 5);
* ``invisible_to_patient`` (INVISIBLE_PATIENT): held until an announcement consultation,
  the patient is told after two weeks and sees it after a month (rule 6);
* ``invisible_to_representatives`` (INVISIBLE_REPRESENTANTS_LEGAUX): a minor's secret
  from the legal representatives (rule 7).

``Confidentiality`` is the codes a depositor sets with a deposit; ``ConfidentialityCommands``
is the part of ``domain.space.Space`` that records the codes. Events keep the names
they were stored with (``HeldForAnnouncement``, ``HiddenFromRepresentatives``). Commands
on a document first ask the read decision whether the actor may see it: a document
someone may not see answers exactly like one that does not exist (``UnknownDocument``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.periods import Periods, add_months
from domain.reads import decide_read
from domain.records import Announcement, Document
from domain.space_state import SpaceState
from domain.values import Actor
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownDocument
from wire.values import Role, require_aware


@dataclass(frozen=True)
class Confidentiality:
    """Codes a depositor sets on a document, in the deposit's transaction."""

    masked: bool = False
    invisible_to_patient: bool = False
    invisible_to_representatives: bool = False

    def __bool__(self) -> bool:
        return self.masked or self.invisible_to_patient or self.invisible_to_representatives

    def apply(
        self,
        space: ConfidentialityCommands,
        document_id: UUID,
        periods: Periods,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record the codes on a document ``actor`` just deposited (nothing if none)."""
        if self:
            space.set_codes(document_id, self, periods, actor, at)


def is_author(document: Document, actor: Actor) -> bool:
    """True when ``actor`` (a professional or a service) deposited the document."""
    return actor.role in (Role.PROFESSIONAL, Role.SERVICE) and actor.id == document.author.id


class ConfidentialityCommands(SpaceState):
    """Commands and events of documents' confidentiality codes (a part of ``Space``)."""

    def _visible_document(self, document_id: UUID, actor: Actor, at: datetime) -> Document:
        if not decide_read(self, document_id, actor, at).allowed:
            raise UnknownDocument("no such document in this space")
        return self.documents[document_id]

    def set_codes(
        self,
        document_id: UUID,
        codes: Confidentiality,
        periods: Periods,
        actor: Actor,
        at: datetime,
    ) -> None:
        """The depositor's confidentiality codes, recorded with a new document.

        No visibility check: the author has just deposited it (even a blocked author
        may deposit). ``invisible_to_patient`` is a professional's act; a
        representative cannot keep a document from representatives.
        """
        require_aware(at, field="at")
        document = self.documents.get(document_id)
        fresh = document is not None and len(document.versions) == 1
        if document is None or not fresh:
            raise Conflict("codes are set with a new document, by its depositor")
        if (document.author.role, document.author.id) != (actor.role, actor.id):
            raise Conflict("codes are set with a new document, by its depositor")
        if codes.invisible_to_patient and actor.role not in (Role.PROFESSIONAL, Role.SERVICE):
            raise InvalidInput(
                "only professionals hold a document for an announcement", field="held"
            )
        if codes.invisible_to_representatives and actor.role is Role.REPRESENTATIVE:
            raise InvalidInput("a representative cannot hide from representatives", field="secret")
        if codes.masked:
            self.trigger_event(self.Masked, document_id=document_id, actor=actor.to_dict(), at=at)
        if codes.invisible_to_representatives:
            self.trigger_event(
                self.HiddenFromRepresentatives,
                document_id=document_id,
                actor=actor.to_dict(),
                at=at,
            )
        if codes.invisible_to_patient:
            self._hold(document_id, periods, actor, at)

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
        """``set_codes`` under the names callers used before the codes had one each."""
        codes = Confidentiality(masked, held, hidden_from_representatives)
        self.set_codes(document_id, codes, periods, actor, at)

    def change_codes(
        self,
        document_id: UUID,
        wanted: Confidentiality,
        periods: Periods,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Give a document the codes ``wanted`` (a FHIR update of its ``securityLabel``):
        each change through the command of that code, so the same rules decide who may.

        All or nothing: the caller saves the events only if every change went through.
        A change no command makes is a ``Conflict``: lifting ``invisible_to_representatives``
        (one-way), or holding again a document already released or past its month.
        """
        require_aware(at, field="at")
        document = self._visible_document(document_id, actor, at)
        if document.invisible_to_representatives and not wanted.invisible_to_representatives:
            raise Conflict("a document invisible to the legal representatives stays so")
        if wanted.masked != document.masked:
            (self.mask if wanted.masked else self.unmask)(document_id, actor, at)
        if wanted.invisible_to_representatives and not document.invisible_to_representatives:
            self.hide_from_representatives(document_id, actor, at)
        if wanted.invisible_to_patient != document.invisible_to_patient(at):
            if wanted.invisible_to_patient:
                self.hold_for_announcement(document_id, periods, actor, at)
            else:
                self.release_to_patient(document_id, actor, at)
        if document.invisible_to_patient(at) != wanted.invisible_to_patient:
            raise Conflict("a document is held for an announcement once, by its author")

    def mask(self, document_id: UUID, actor: Actor, at: datetime) -> None:
        """``masked``: hide a document from professionals (the holder, or its author)."""
        require_aware(at, field="at")
        self._require_open(at)
        document = self._visible_document(document_id, actor, at)
        if not (self.is_holder(actor, at) or is_author(document, actor)):
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
        self._require_open(at)
        self._require_holder(actor, at)
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
        """``invisible_to_representatives``: the patient (a minor) or the author keeps a
        document secret from the legal representatives (CSP R1111-50). Never lifted by a
        representative; there is deliberately no command that lifts it."""
        require_aware(at, field="at")
        self._require_open(at)
        document = self._visible_document(document_id, actor, at)
        if not (self.is_patient(actor) or is_author(document, actor)):
            raise Forbidden("only the patient or the author keeps a document from representatives")
        if not document.invisible_to_representatives:
            self.trigger_event(
                self.HiddenFromRepresentatives,
                document_id=document_id,
                actor=actor.to_dict(),
                at=at,
            )

    class HiddenFromRepresentatives(Aggregate.Event):
        """A document became ``invisible_to_representatives``."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].invisible_to_representatives = True

    def hold_for_announcement(
        self, document_id: UUID, periods: Periods, actor: Actor, at: datetime
    ) -> None:
        """``invisible_to_patient``: the author holds a document until an announcement
        consultation; the patient is told after two weeks, sees it after a month."""
        require_aware(at, field="at")
        self._require_open(at)
        document = self._visible_document(document_id, actor, at)
        if not is_author(document, actor):
            raise Forbidden("only the author holds a document for an announcement")
        if document.announcement is None:
            self._hold(document_id, periods, actor, at)

    def _hold(self, document_id: UUID, periods: Periods, actor: Actor, at: datetime) -> None:
        self.trigger_event(
            self.HeldForAnnouncement,
            document_id=document_id,
            notice_at=at + periods.announcement_notice,
            visible_at=add_months(at, periods.announcement_months),
            actor=actor.to_dict(),
            at=at,
        )

    class HeldForAnnouncement(Aggregate.Event):
        """A document is ``invisible_to_patient`` until ``visible_at`` or its release."""

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
        if not is_author(document, actor):
            raise Forbidden("only the author releases a held document")
        if not document.invisible_to_patient(at):
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
            aggregate.documents[self.document_id].release(self.at)

    class AnnouncementNoticeSent(Aggregate.Event):
        """The patient was told a document awaits an announcement consultation."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].notice_sent(self.at)
