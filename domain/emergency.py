"""Emergency access (bris de glace, CSP L1111-17 and R1111-48).

``Emergencies`` is the concept's state (every declared access by id);
``EmergencyCommands`` is the part of ``domain.space.Space`` that records them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.key_bytes import SealedText, keep_earlier_shape, stored_text
from domain.periods import Periods
from domain.records import EmergencyAccess, Setting
from domain.space_state import SpaceState
from domain.values import Actor
from wire.errors import Conflict, Forbidden, InvalidInput
from wire.values import Profession, Role, clean_text, require_aware

JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 1000

#: who may break the glass: "un professionnel de santé" (CSP L1111-17). Social workers
#: read under a grant like any professional, but they are of the social sector, not
#: health professionals, so an emergency access is not theirs to declare.
HEALTH_PROFESSIONS = frozenset(Profession) - {Profession.SOCIAL_WORKER}


class EmergencyRefusal(StrEnum):
    """Why an emergency access was refused; recorded, shown to the patient, and the
    ``rule`` of the ``Refused`` error."""

    FORBIDDEN_BY_PATIENT = "emergency_access_forbidden"
    NOT_A_HEALTH_PROFESSION = "not_a_health_profession"


#: what the declarer is told, per refusal
REFUSAL_MESSAGES = {
    EmergencyRefusal.FORBIDDEN_BY_PATIENT: "the patient forbade emergency access",
    EmergencyRefusal.NOT_A_HEALTH_PROFESSION: (
        "emergency access is for health professionals (CSP L1111-17)"
    ),
}


@dataclass(frozen=True)
class EmergencyDecision:
    """The answer to a declaration: granted (truthy), or the refusal that was recorded."""

    refusal: EmergencyRefusal | None = None

    def __bool__(self) -> bool:
        return self.refusal is None


class Emergencies(dict[UUID, EmergencyAccess]):
    """A space's emergency accesses by id."""

    def active_for(self, professional_id: str, now: datetime) -> EmergencyAccess | None:
        """An emergency access of ``professional_id`` in force at ``now``, if any."""
        for access in self.values():
            if access.professional.id == professional_id and access.active(now):
                return access
        return None

    def end_all(self, at: datetime) -> None:
        """The space closed: every emergency access still running ends."""
        for access in self.values():
            if access.ended_at is None:
                access.ended_at = at


class EmergencyCommands(SpaceState):
    """Emergency access (a part of ``Space``)."""

    def invoke_emergency_access(
        self,
        access_id: UUID,
        justification: str,
        periods: Periods,
        actor: Actor,
        at: datetime,
        seal: Callable[[str], SealedText] | None = None,
    ) -> EmergencyDecision:
        """A professional declares an emergency access (bris de glace, CSP L1111-17).

        Refused, with the attempt recorded, when the declarer is not a health
        professional or when the patient forbade emergency access (in that order).
        The patient, their representatives and the attending physician are named on the
        event as the people to notify (CSP R1111-48).

        ``seal`` seals the checked justification (the vault seals it to the space key,
        so the space's shredding destroys it); without, it is recorded in clear.
        """
        require_aware(at, field="at")
        if actor.role is not Role.PROFESSIONAL:
            raise Forbidden("only a health professional declares an emergency access")
        text = clean_text(justification, field="justification", max_length=JUSTIFICATION_MAX)
        if len(text) < JUSTIFICATION_MIN:
            raise InvalidInput(
                "an emergency access needs a written justification", field="justification"
            )
        self._require_open(at)
        if access_id in self.emergency:
            raise Conflict("an emergency access with this id exists")
        recorded = {"justification": text}
        if seal is not None:
            sealed = seal(text)
            recorded = {"justification": sealed.box, "text_key": sealed.key_id}
        refusal = self._emergency_refusal(actor)
        if refusal is not None:
            refused = {
                EmergencyRefusal.NOT_A_HEALTH_PROFESSION: self.EmergencyAccessProfessionRefused,
                EmergencyRefusal.FORBIDDEN_BY_PATIENT: self.EmergencyAccessRefused,
            }[refusal]
            self.trigger_event(
                refused, access_id=access_id, actor=actor.to_dict(), at=at, **recorded
            )
            return EmergencyDecision(refusal)
        self.trigger_event(
            self.EmergencyAccessInvoked,
            access_id=access_id,
            expires_at=at + periods.emergency,
            notify=self._emergency_recipients(at),
            actor=actor.to_dict(),
            at=at,
            **recorded,
        )
        return EmergencyDecision()

    def _emergency_refusal(self, actor: Actor) -> EmergencyRefusal | None:
        """Why ``actor`` may not declare an emergency access here, first rule first."""
        if actor.profession not in HEALTH_PROFESSIONS:
            return EmergencyRefusal.NOT_A_HEALTH_PROFESSION
        if self.blocks.settings[Setting.EMERGENCY_ACCESS_FORBIDDEN]:
            return EmergencyRefusal.FORBIDDEN_BY_PATIENT
        return None

    def _emergency_recipients(self, at: datetime) -> list[dict[str, Any]]:
        recipients = [{"role": Role.PATIENT.value, "id": self.patient_id}]
        recipients += [
            {"role": Role.REPRESENTATIVE.value, "id": r.representative.id}
            for r in self.representatives.values()
            if r.active(at)
        ]
        physician = self.blocks.attending_physician
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
        #: the key ``justification`` is sealed to (absent from events recorded before
        #: justifications were sealed, whose justification is clear text)
        text_key: str | None = None

        def __post_init__(self) -> None:
            super().__post_init__()
            keep_earlier_shape(self.__dict__)

        def apply(self, aggregate: Any) -> None:
            aggregate.emergency[self.access_id] = EmergencyAccess(
                id=self.access_id,
                professional=Actor.from_dict(self.actor),
                justification=stored_text(self.justification, self.text_key),
                started_at=self.at,
                expires_at=self.expires_at,
            )

    class EmergencyAccessRefused(Aggregate.Event):
        """An emergency access was refused: the patient forbade emergency access."""

        access_id: UUID
        justification: str
        actor: dict[str, Any]
        at: datetime
        #: as on ``EmergencyAccessInvoked``
        text_key: str | None = None

        def __post_init__(self) -> None:
            super().__post_init__()
            keep_earlier_shape(self.__dict__)

        def apply(self, aggregate: Any) -> None:
            pass  # a record for the patient's log; it changes no state

    class EmergencyAccessProfessionRefused(EmergencyAccessRefused):
        """An emergency access was refused: the declarer is not a health professional.

        A class of its own rather than a reason on ``EmergencyAccessRefused``: a field
        added to stored events would change their digests in the trail.
        """
