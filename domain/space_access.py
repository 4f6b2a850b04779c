"""Who may read, beyond grants: blocks, the attending physician, the patient's
settings, the care team, legal representatives and emergency access.

``SpaceAccess`` is a part of ``Space`` (see ``domain.space_life`` for how the parts
share one aggregate and one event namespace).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import Conflict, Forbidden, InvalidInput, UnknownRepresentative
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
from domain.values import Actor, Profession, Role, Scope, clean_text, require_aware

JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 1000


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
    ) -> None:
        """An establishment declares a professional of the patient's care team (R1111-46).

        Recorded as a whole-space grant the patient sees in their grants and may revoke.
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
        self.trigger_event(
            self.CareTeamJoined,
            grant_id=grant_id,
            grantee=professional.to_dict(),
            scope=Scope.whole_space().to_dict(),
            expires_at=expires_at,
            actor=actor.to_dict(),
            at=at,
        )

    class CareTeamJoined(Aggregate.Event):
        """A professional joined the care team: a grant with basis ``care_team``."""

        grant_id: UUID
        grantee: dict[str, Any]
        scope: dict[str, Any]
        expires_at: datetime | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.grants[self.grant_id] = Grant(
                id=self.grant_id,
                grantee=Actor.from_dict(self.grantee),
                scope=Scope.from_dict(self.scope),
                granted_at=self.at,
                expires_at=self.expires_at,
                basis=GrantBasis.CARE_TEAM,
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
    ) -> None:
        """A platform service records a legal representative (from the register or a
        court decision). A parent's representation ends at the patient's majority."""
        require_aware(at, field="at")
        if actor.role is not Role.SERVICE:
            raise Forbidden("representatives are recorded by a platform service")
        try:
            kind = RepresentativeKind(kind)
        except ValueError:
            raise InvalidInput("unknown kind of representative", field="kind") from None
        if representative.role is not Role.REPRESENTATIVE:
            raise InvalidInput("a representative acts with the representative role", field="id")
        if representative.id == self.patient_id:  # type: ignore[attr-defined]
            raise InvalidInput("nobody represents themselves", field="id")
        if self.status in (SpaceStatus.DELETED,):  # type: ignore[attr-defined]
            raise Conflict("this space was deleted")
        if kind is RepresentativeKind.PARENT:
            if self.birth_date is None:  # type: ignore[attr-defined]
                raise InvalidInput("a parent is recorded only with the birth date", field="kind")
            if until is not None:
                raise InvalidInput("a parent's representation ends at majority", field="until")
            until = periods.majority(self.birth_date)  # type: ignore[attr-defined]
            if until <= at:
                raise Conflict("the patient is of age")
        elif until is not None and require_aware(until, field="until") <= at:
            raise InvalidInput("a representation's end must be in the future", field="until")
        current = self.representatives.get(representative.id)  # type: ignore[attr-defined]
        if current is not None and current.active(at):
            raise Conflict("this person already represents the patient")
        self.trigger_event(
            self.RepresentativeAdded,
            representative=representative.to_dict(),
            kind=kind.value,
            until=until,
            actor=actor.to_dict(),
            at=at,
        )

    class RepresentativeAdded(Aggregate.Event):
        """Someone now acts on the patient's behalf, until ``until`` (or revoked)."""

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
            )

    def end_representation(
        self, representative_id: str, reason: str, actor: Actor, at: datetime
    ) -> None:
        """A representation ends: revoked by a platform service, or majority (scheduler)."""
        require_aware(at, field="at")
        if actor.role is not Role.SERVICE:
            raise Forbidden("representations are ended by a platform service")
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
