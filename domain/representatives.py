"""Legal representatives: who acts for the patient, appointed on a legal basis by an
authorised registry (RULES.md, "Representatives").

``Representatives`` is the concept's state (every representation by the representative's
id); ``RepresentativeCommands`` is the part of ``domain.space.Space`` that records
appointments and their ends. ``Registry`` and ``LegalBasis`` are its value objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.key_bytes import SealedText, keep_earlier_shape, stored_text
from domain.periods import Periods
from domain.records import Representation, RepresentativeKind, SpaceStatus
from domain.space_state import SpaceState
from domain.values import Actor, AuthorisedServices
from wire.errors import Conflict, InvalidInput, UnknownRepresentative
from wire.values import Role, clean_text, require_aware

#: the longest reference of an appointment's act (a court decision's docket number...)
BASIS_REFERENCE_MAX = 120

#: the act each kind of representation rests on
BASIS_ACTS = {
    RepresentativeKind.PARENT: "birth_registration",
    RepresentativeKind.GUARDIAN: "court_decision",
}


@dataclass(frozen=True)
class Registry(AuthorisedServices):
    """Who may appoint and end legal representatives: the registry services the
    deployment authorised (``COFFRE_REGISTRY_SERVICES``), and nobody else.

    A ``service`` token alone is not enough: hospitals deposit with that role, and an
    appointment gives its holder every document of the space.
    """

    refusal: str = "legal representatives are appointed by an authorised registry"


@dataclass(frozen=True)
class LegalBasis:
    """The act an appointment rests on: its reference and date (a birth registration
    for a parent, a court decision for a guardian)."""

    reference: str
    date: date

    def __post_init__(self) -> None:
        reference = clean_text(
            self.reference, field="basis.reference", max_length=BASIS_REFERENCE_MAX
        )
        if not isinstance(self.date, date) or isinstance(self.date, datetime):
            raise InvalidInput("an act's date is a calendar date", field="basis.date")
        object.__setattr__(self, "reference", reference)

    def to_dict(self, kind: RepresentativeKind) -> dict[str, str]:
        """The form events carry: ``{act, reference, date}``."""
        return {
            "act": BASIS_ACTS[kind],
            "reference": self.reference,
            "date": self.date.isoformat(),
        }


class Representatives(dict[str, Representation]):
    """A patient's representations by the representative's id, ended ones included."""

    def active(self, actor: Actor, now: datetime) -> Representation | None:
        """The actor's representation of the patient in force at ``now``, if any."""
        if actor.role is not Role.REPRESENTATIVE:
            return None
        current = self.get(actor.id)
        return current if current is not None and current.active(now) else None

    def in_office(self, now: datetime) -> list[Representation]:
        """Every representation in force at ``now``."""
        return [r for r in self.values() if r.active(now)]


class RepresentativeCommands(SpaceState):
    """Appointments and ends of representations (a part of ``Space``)."""

    def add_representative(
        self,
        representative: Actor,
        kind: RepresentativeKind,
        until: datetime | None,
        periods: Periods,
        actor: Actor,
        at: datetime,
        *,
        basis: LegalBasis,
        registry: Registry,
        seal: Callable[[str], SealedText] | None = None,
    ) -> None:
        """An authorised registry service appoints a legal representative, on the act
        ``basis`` names (a birth registration for a parent, a court decision for a
        guardian). A parent's representation ends at the patient's majority.

        The patient and every other current representative are named on the event as
        the people to notify. Any other caller, a depositing hospital included, is
        refused and nothing is recorded.

        ``seal`` seals the representative's name and the act's reference once checked
        (the vault seals them to the space key, so the space's shredding destroys them:
        a guardianship's court decision is health data); without, they are recorded in
        clear. Their id, the kind, the dates and the act's type stay clear: the rules
        decide on them.
        """
        require_aware(at, field="at")
        registry.require(actor)
        try:
            kind = RepresentativeKind(kind)
        except ValueError:
            raise InvalidInput("unknown kind of representative", field="kind") from None
        if not isinstance(basis, LegalBasis):
            raise InvalidInput("an appointment needs its legal basis", field="basis")
        if representative.role is not Role.REPRESENTATIVE:
            raise InvalidInput("a representative acts with the representative role", field="id")
        if representative.id == self.patient_id:
            raise InvalidInput("nobody represents themselves", field="id")
        if self.life.status is SpaceStatus.DELETED:
            raise Conflict("this space was deleted")
        if basis.date > at.date():
            raise InvalidInput("the act of the appointment is in the future", field="basis.date")
        if kind is RepresentativeKind.PARENT:
            birth_date = self.life.birth_date
            if birth_date is None:
                raise InvalidInput("a parent is recorded only with the birth date", field="kind")
            if until is not None:
                raise InvalidInput("a parent's representation ends at majority", field="until")
            if basis.date < birth_date:
                raise InvalidInput("a birth is registered after it", field="basis.date")
            until = periods.majority(birth_date)
            if until <= at:
                raise Conflict("the patient is of age")
        elif until is not None and require_aware(until, field="until") <= at:
            raise InvalidInput("a representation's end must be in the future", field="until")
        current = self.representatives.get(representative.id)
        if current is not None and current.active(at):
            raise Conflict("this person already represents the patient")
        person, act = representative.to_dict(), basis.to_dict(kind)
        sealed_to: dict[str, str] = {}
        if seal is not None:
            # one key for both (``seal`` seals to one key pair), named once on the event
            name, reference = seal(representative.name), seal(basis.reference)
            person["name"], act["reference"] = name.box, reference.box
            sealed_to = {"text_key": reference.key_id}
        self.trigger_event(
            self.RepresentativeAppointed,
            representative=person,
            kind=kind.value,
            until=until,
            basis=act,
            notify=self._representation_recipients(representative.id, at),
            actor=actor.to_dict(),
            at=at,
            **sealed_to,
        )

    def _representation_recipients(self, appointed: str, at: datetime) -> list[dict[str, Any]]:
        # The patient and every other representative in office at ``at``.
        recipients = [{"role": Role.PATIENT.value, "id": self.patient_id}]
        recipients += [
            {"role": Role.REPRESENTATIVE.value, "id": r.representative.id}
            for r in self.representatives.values()
            if r.active(at) and r.representative.id != appointed
        ]
        return recipients

    class RepresentativeAdded(Aggregate.Event):
        """Someone now acts on the patient's behalf, until ``until`` (or revoked).

        Recorded before appointments carried their legal basis; new appointments are
        ``RepresentativeAppointed``, a kind of this event.
        """

        representative: dict[str, Any]
        kind: str
        until: datetime | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            # ``text_key``: an appointment whose name and reference are sealed (events
            # recorded before, and every ``RepresentativeAdded``, have none)
            text_key = self.__dict__.get("text_key")
            name = stored_text(self.representative["name"], text_key)
            basis = getattr(self, "basis", None)
            if basis is not None:
                basis = {**basis, "reference": stored_text(basis["reference"], text_key)}
            person = {**self.representative, "name": name if isinstance(name, str) else ""}
            aggregate.representatives[self.representative["id"]] = Representation(
                representative=Actor.from_dict(person),
                name=name,
                kind=RepresentativeKind(self.kind),
                since=self.at,
                until=self.until,
                basis=basis,
            )

    class RepresentativeAppointed(RepresentativeAdded):
        """A registry service appointed a representative on a legal ``basis``
        (``{act, reference, date}``); ``notify`` lists who must be told: the patient
        and the other representatives in office.

        The representative's ``name`` and the basis's ``reference`` are sealed to the
        key ``text_key`` names (the space key), as an emergency access's justification
        is; appointments recorded before hold them in clear, and no ``text_key``.
        """

        basis: dict[str, str]
        notify: list[dict[str, Any]]
        #: the key the name and the reference are sealed to (absent: both are clear)
        text_key: str | None = None

        def __post_init__(self) -> None:
            super().__post_init__()
            keep_earlier_shape(self.__dict__)

    def end_representation(
        self, representative_id: str, reason: str, actor: Actor, at: datetime, *, registry: Registry
    ) -> None:
        """An authorised registry service ends a representation (a court decision, a
        change of parental authority); majority ends a parent's on its own (scheduler)."""
        require_aware(at, field="at")
        registry.require(actor)
        current = self.representatives.get(representative_id)
        if current is None:
            raise UnknownRepresentative("no such representative of this patient")
        if current.ended_at is not None:
            raise Conflict("this representation already ended")
        self.trigger_event(
            self.RepresentationEnded,
            representative_id=representative_id,
            reason=clean_text(reason, field="reason", max_length=40),
            actor=actor.to_dict(),
            at=at,
        )

    class RepresentationEnded(Aggregate.Event):
        """A representative no longer acts for the patient (``reason``: revoked, majority)."""

        representative_id: str
        reason: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            representation = aggregate.representatives[self.representative_id]
            representation.ended_at = self.at
            representation.end_reason = self.reason
