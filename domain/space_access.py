"""Who may read, beyond grants: blocks, the attending physician, the patient's
settings, the care team, legal representatives and emergency access.

``SpaceAccess`` is a part of ``Space`` (see ``domain.space_life`` for how the parts
share one aggregate and one event namespace).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.periods import Periods
from domain.records import (
    EmergencyAccess,
    Grant,
    GrantBasis,
    Representation,
    RepresentativeKind,
    Setting,
    SpaceStatus,
)
from domain.values import Actor, Scope
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownRepresentative
from wire.values import Profession, Role, clean_text, require_aware

JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 1000
#: the longest reference of an appointment's act (a court decision's docket number...)
BASIS_REFERENCE_MAX = 120

#: the act each kind of representation rests on
BASIS_ACTS = {
    RepresentativeKind.PARENT: "birth_registration",
    RepresentativeKind.GUARDIAN: "court_decision",
}


@dataclass(frozen=True)
class Registry:
    """Who may appoint and end legal representatives: the registry services the
    deployment authorised (``COFFRE_REGISTRY_SERVICES``), and nobody else.

    A ``service`` token alone is not enough: hospitals deposit with that role, and an
    appointment gives its holder every document of the space.
    """

    services: frozenset[str] = frozenset()

    def authorises(self, actor: Actor) -> bool:
        """True for a service the deployment named as a registry."""
        return actor.role is Role.SERVICE and actor.id in self.services

    def require(self, actor: Actor) -> None:
        """``Forbidden`` unless ``actor`` is an authorised registry service."""
        if not self.authorises(actor):
            raise Forbidden("legal representatives are appointed by an authorised registry")


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


class SpaceAccess(Aggregate):
    """Commands and events of who may read (mixed into ``Space``)."""

    # -- who: blocks, attending physician, settings, care team -----------------------

    def block(self, professional: Actor, actor: Actor, at: datetime) -> None:
        """The holder blocks a professional: none of their reads is allowed (rule 3)."""
        require_aware(at, field="at")
        self._require_holder(actor, at)  # type: ignore[attr-defined]
        self._require_open(at)  # type: ignore[attr-defined]
        if professional.role is not Role.PROFESSIONAL:
            raise InvalidInput("only professionals are blocked", field="professional")
        if professional.id not in self.blocked:  # type: ignore[attr-defined]
            self.trigger_event(
                self.Blocked, professional=professional.to_dict(), actor=actor.to_dict(), at=at
            )

    class Blocked(Aggregate.Event):
        """The patient blocked a professional."""

        professional: dict[str, Any]
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.blocked[self.professional["id"]] = Actor.from_dict(self.professional)

    def unblock(self, professional_id: str, actor: Actor, at: datetime) -> None:
        """The holder lifts a block."""
        require_aware(at, field="at")
        self._require_holder(actor, at)  # type: ignore[attr-defined]
        self._require_open(at)  # type: ignore[attr-defined]
        if professional_id in self.blocked:  # type: ignore[attr-defined]
            self.trigger_event(
                self.Unblocked, professional_id=professional_id, actor=actor.to_dict(), at=at
            )

    class Unblocked(Aggregate.Event):
        """The patient lifted a block."""

        professional_id: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            del aggregate.blocked[self.professional_id]

    def designate_attending_physician(
        self, physician: Actor | None, actor: Actor, at: datetime
    ) -> None:
        """The holder names their attending physician (médecin traitant), or none."""
        require_aware(at, field="at")
        self._require_holder(actor, at)  # type: ignore[attr-defined]
        self._require_open(at)  # type: ignore[attr-defined]
        if physician is not None and physician.profession is not Profession.DOCTOR:
            raise InvalidInput("the attending physician is a doctor", field="physician")
        current = self.attending_physician  # type: ignore[attr-defined]
        if (current.id if current else None) != (physician.id if physician else None):
            self.trigger_event(
                self.AttendingPhysicianDesignated,
                physician=physician.to_dict() if physician else None,
                actor=actor.to_dict(),
                at=at,
            )

    class AttendingPhysicianDesignated(Aggregate.Event):
        """The patient's attending physician changed (``None``: no longer any)."""

        physician: dict[str, Any] | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.attending_physician = (
                Actor.from_dict(self.physician) if self.physician else None
            )

    def change_setting(self, setting: Setting, value: bool, actor: Actor, at: datetime) -> None:
        """The holder changes one of the space-level choices the policy reads."""
        require_aware(at, field="at")
        try:
            setting = Setting(setting)
        except ValueError:
            raise InvalidInput("unknown setting", field="setting") from None
        if not isinstance(value, bool):
            raise InvalidInput("a setting is true or false", field="value")
        self._require_holder(actor, at)  # type: ignore[attr-defined]
        self._require_open(at)  # type: ignore[attr-defined]
        if self.settings[setting] is not value:  # type: ignore[attr-defined]
            self.trigger_event(
                self.SettingChanged,
                setting=setting.value,
                value=value,
                actor=actor.to_dict(),
                at=at,
            )

    class SettingChanged(Aggregate.Event):
        """A space-level setting changed (emergency access, masks)."""

        setting: str
        value: bool
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.settings[Setting(self.setting)] = self.value

    def add_to_care_team(
        self,
        grant_id: UUID,
        professional: Actor,
        expires_at: datetime | None,
        actor: Actor,
        at: datetime,
    ) -> UUID:
        """An establishment declares a professional of the patient's care team (R1111-46).

        Recorded as a whole-space grant the patient sees in their grants and may revoke.
        Like every grant, one per professional: a professional who holds an active grant
        keeps it, changed to the care team's (whole space, this expiry); returns its id.
        """
        require_aware(at, field="at")
        if actor.role is not Role.SERVICE:
            raise Forbidden("care teams are declared by the establishment's service")
        if professional.role is not Role.PROFESSIONAL:
            raise InvalidInput("care teams are made of professionals", field="professional")
        if expires_at is not None and require_aware(expires_at, field="expires_at") <= at:
            raise InvalidInput("an expiry must be in the future", field="expires_at")
        self._require_open(at)  # type: ignore[attr-defined]
        if grant_id in self.grants:  # type: ignore[attr-defined]
            raise Conflict("a grant with this id exists")
        current = self.active_grant(professional.id, at)  # type: ignore[attr-defined]
        if current is not None:
            self._change_grant(  # type: ignore[attr-defined]
                current, Scope.whole_space(), expires_at, GrantBasis.CARE_TEAM, actor, at
            )
            return current.id  # type: ignore[no-any-return]
        self.trigger_event(
            self.CareTeamJoined,
            grant_id=grant_id,
            grantee=professional.to_dict(),
            scope=Scope.whole_space().to_dict(),
            expires_at=expires_at,
            actor=actor.to_dict(),
            at=at,
        )
        return grant_id

    class CareTeamJoined(Aggregate.Event):
        """A professional joined the care team: a grant with basis ``care_team``."""

        grant_id: UUID
        grantee: dict[str, Any]
        scope: dict[str, Any]
        expires_at: datetime | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.add_grant(
                Grant(
                    id=self.grant_id,
                    grantee=Actor.from_dict(self.grantee),
                    scope=Scope.from_dict(self.scope),
                    granted_at=self.at,
                    expires_at=self.expires_at,
                    basis=GrantBasis.CARE_TEAM,
                )
            )

    # -- representatives -------------------------------------------------------------

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
    ) -> None:
        """An authorised registry service appoints a legal representative, on the act
        ``basis`` names (a birth registration for a parent, a court decision for a
        guardian). A parent's representation ends at the patient's majority.

        The patient and every other current representative are named on the event as
        the people to notify. Any other caller, a depositing hospital included, is
        refused and nothing is recorded.
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
        if representative.id == self.patient_id:  # type: ignore[attr-defined]
            raise InvalidInput("nobody represents themselves", field="id")
        if self.status in (SpaceStatus.DELETED,):  # type: ignore[attr-defined]
            raise Conflict("this space was deleted")
        if basis.date > at.date():
            raise InvalidInput("the act of the appointment is in the future", field="basis.date")
        if kind is RepresentativeKind.PARENT:
            if self.birth_date is None:  # type: ignore[attr-defined]
                raise InvalidInput("a parent is recorded only with the birth date", field="kind")
            if until is not None:
                raise InvalidInput("a parent's representation ends at majority", field="until")
            if basis.date < self.birth_date:  # type: ignore[attr-defined]
                raise InvalidInput("a birth is registered after it", field="basis.date")
            until = periods.majority(self.birth_date)  # type: ignore[attr-defined]
            if until <= at:
                raise Conflict("the patient is of age")
        elif until is not None and require_aware(until, field="until") <= at:
            raise InvalidInput("a representation's end must be in the future", field="until")
        current = self.representatives.get(representative.id)  # type: ignore[attr-defined]
        if current is not None and current.active(at):
            raise Conflict("this person already represents the patient")
        self.trigger_event(
            self.RepresentativeAppointed,
            representative=representative.to_dict(),
            kind=kind.value,
            until=until,
            basis=basis.to_dict(kind),
            notify=self._representation_recipients(representative.id, at),
            actor=actor.to_dict(),
            at=at,
        )

    def _representation_recipients(self, appointed: str, at: datetime) -> list[dict[str, Any]]:
        # The patient and every other representative in office at ``at``.
        recipients = [{"role": Role.PATIENT.value, "id": self.patient_id}]  # type: ignore[attr-defined]
        recipients += [
            {"role": Role.REPRESENTATIVE.value, "id": r.representative.id}
            for r in self.representatives.values()  # type: ignore[attr-defined]
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
            aggregate.representatives[self.representative["id"]] = Representation(
                representative=Actor.from_dict(self.representative),
                kind=RepresentativeKind(self.kind),
                since=self.at,
                until=self.until,
                basis=getattr(self, "basis", None),
            )

    class RepresentativeAppointed(RepresentativeAdded):
        """A registry service appointed a representative on a legal ``basis``
        (``{act, reference, date}``); ``notify`` lists who must be told: the patient
        and the other representatives in office."""

        basis: dict[str, str]
        notify: list[dict[str, Any]]

    def end_representation(
        self, representative_id: str, reason: str, actor: Actor, at: datetime, *, registry: Registry
    ) -> None:
        """An authorised registry service ends a representation (a court decision, a
        change of parental authority); majority ends a parent's on its own (scheduler)."""
        require_aware(at, field="at")
        registry.require(actor)
        current = self.representatives.get(representative_id)  # type: ignore[attr-defined]
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

    # -- emergency access ------------------------------------------------------------

    def invoke_emergency_access(
        self,
        access_id: UUID,
        justification: str,
        periods: Periods,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """A professional declares an emergency access (bris de glace, CSP L1111-17).

        Returns False, with the refused attempt recorded, when the patient forbade it.
        The patient, their representatives and the attending physician are named on the
        event as the people to notify (CSP R1111-48).
        """
        require_aware(at, field="at")
        if actor.role is not Role.PROFESSIONAL:
            raise Forbidden("only a health professional declares an emergency access")
        text = clean_text(justification, field="justification", max_length=JUSTIFICATION_MAX)
        if len(text) < JUSTIFICATION_MIN:
            raise InvalidInput(
                "an emergency access needs a written justification", field="justification"
            )
        self._require_open(at)  # type: ignore[attr-defined]
        if access_id in self.emergency_accesses:  # type: ignore[attr-defined]
            raise Conflict("an emergency access with this id exists")
        if self.settings[Setting.EMERGENCY_ACCESS_FORBIDDEN]:  # type: ignore[attr-defined]
            self.trigger_event(
                self.EmergencyAccessRefused,
                access_id=access_id,
                justification=text,
                actor=actor.to_dict(),
                at=at,
            )
            return False
        self.trigger_event(
            self.EmergencyAccessInvoked,
            access_id=access_id,
            justification=text,
            expires_at=at + periods.emergency,
            notify=self._emergency_recipients(at),
            actor=actor.to_dict(),
            at=at,
        )
        return True

    def _emergency_recipients(self, at: datetime) -> list[dict[str, Any]]:
        recipients = [{"role": Role.PATIENT.value, "id": self.patient_id}]  # type: ignore[attr-defined]
        recipients += [
            {"role": Role.REPRESENTATIVE.value, "id": r.representative.id}
            for r in self.representatives.values()  # type: ignore[attr-defined]
            if r.active(at)
        ]
        physician = self.attending_physician  # type: ignore[attr-defined]
        if physician is not None:
            recipients.append({"role": Role.PROFESSIONAL.value, "id": physician.id})
        return recipients

    class EmergencyAccessInvoked(Aggregate.Event):
        """An emergency access started; ``notify`` lists who must be told."""

        access_id: UUID
        justification: str
        expires_at: datetime
        notify: list[dict[str, Any]]
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.emergency_accesses[self.access_id] = EmergencyAccess(
                id=self.access_id,
                professional=Actor.from_dict(self.actor),
                justification=self.justification,
                started_at=self.at,
                expires_at=self.expires_at,
            )

    class EmergencyAccessRefused(Aggregate.Event):
        """An emergency access was refused: the patient forbade emergency access."""

        access_id: UUID
        justification: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            pass  # a record for the patient's log; it changes no state
