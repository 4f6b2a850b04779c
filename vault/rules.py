"""Use cases of the patient's rules: confidentiality codes, blocks, the attending
physician, settings, the care team, representatives, emergency access, and the list of
who may currently read what.

Mixed into ``vault.service.Vault``; each command is one transaction on one space.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from domain.periods import Periods
from domain.policy import decide_read
from domain.records import RepresentativeKind, Setting
from domain.space import Grant, Space
from domain.space_access import LegalBasis
from domain.values import Actor, ScopeKind
from wire.dto import (
    AccessRules,
    EmergencyGranted,
    EmergencySummary,
    GrantSummary,
    RepresentativeSummary,
)
from wire.errors import Forbidden, Refused

if TYPE_CHECKING:
    from vault.service import Vault


@dataclass(frozen=True)
class Confidentiality:
    """Codes a depositor sets on a document, in the deposit's transaction.

    ``masked``: MASQUE_PS (hidden from professionals but its author);
    ``invisible_to_patient``: INVISIBLE_PATIENT (held for an announcement consultation:
    professionals and services only); ``invisible_to_representatives``:
    INVISIBLE_REPRESENTANTS_LEGAUX (a minor's secret).
    """

    masked: bool = False
    invisible_to_patient: bool = False
    invisible_to_representatives: bool = False

    def apply(
        self, space: Space, document_id: UUID, periods: Periods, actor: Actor, at: datetime
    ) -> None:
        """Record the codes on a document ``actor`` just deposited."""
        if self.masked or self.invisible_to_patient or self.invisible_to_representatives:
            space.set_codes_at_deposit(
                document_id,
                masked=self.masked,
                hidden_from_representatives=self.invisible_to_representatives,
                held=self.invisible_to_patient,
                periods=periods,
                actor=actor,
                at=at,
            )


class RuleCases:
    """The access-rule use cases of ``Vault``."""

    # -- documents -----------------------------------------------------------------

    def mask(self: Vault, patient_id: str, document_id: UUID, actor: Actor) -> None:
        """Mask a document from professionals (MASQUE_PS)."""
        self._on_space(patient_id, actor, lambda s, now: s.mask(document_id, actor, now))

    def unmask(self: Vault, patient_id: str, document_id: UUID, actor: Actor) -> None:
        """Show a masked document to professionals again."""
        self._on_space(patient_id, actor, lambda s, now: s.unmask(document_id, actor, now))

    def hide_from_representatives(
        self: Vault, patient_id: str, document_id: UUID, actor: Actor
    ) -> None:
        """Keep a document secret from the legal representatives (a minor's right)."""
        self._on_space(
            patient_id, actor, lambda s, now: s.hide_from_representatives(document_id, actor, now)
        )

    def release_to_patient(self: Vault, patient_id: str, document_id: UUID, actor: Actor) -> None:
        """The author releases a document held for an announcement consultation."""
        self._on_space(
            patient_id, actor, lambda s, now: s.release_to_patient(document_id, actor, now)
        )

    # -- who -------------------------------------------------------------------------

    def block(self: Vault, patient_id: str, professional: Actor, actor: Actor) -> None:
        """Block a professional from every document of the space."""
        self._on_space(patient_id, actor, lambda s, now: s.block(professional, actor, now))

    def unblock(self: Vault, patient_id: str, professional_id: str, actor: Actor) -> None:
        """Lift a block."""
        self._on_space(patient_id, actor, lambda s, now: s.unblock(professional_id, actor, now))

    def designate_attending_physician(
        self: Vault, patient_id: str, physician: Actor | None, actor: Actor
    ) -> None:
        """Name the attending physician (médecin traitant), or none."""
        self._on_space(
            patient_id, actor, lambda s, now: s.designate_attending_physician(physician, actor, now)
        )

    def change_setting(
        self: Vault, patient_id: str, setting: Setting | str, value: bool, actor: Actor
    ) -> None:
        """Change a space-level setting (emergency access, masked documents)."""
        self._on_space(
            patient_id,
            actor,
            lambda s, now: s.change_setting(setting, value, actor, now),  # type: ignore[arg-type]
        )

    def add_to_care_team(
        self: Vault,
        patient_id: str,
        professional: Actor,
        expires_at: datetime | None,
        actor: Actor,
    ) -> UUID:
        """An establishment declares a member of the care team; returns the grant id."""
        return self._on_space(
            patient_id,
            actor,
            lambda s, now: s.add_to_care_team(uuid4(), professional, expires_at, actor, now),
        )

    def add_representative(
        self: Vault,
        patient_id: str,
        representative: Actor,
        kind: RepresentativeKind | str,
        actor: Actor,
        until: datetime | None = None,
        *,
        basis: LegalBasis,
    ) -> None:
        """An authorised registry service appoints a legal representative (a parent
        of a minor, a guardian) on the act ``basis`` names; the patient and the other
        representatives are notified. Any other caller: ``Forbidden``."""
        self._on_space(
            patient_id,
            actor,
            lambda s, now: s.add_representative(
                representative,
                kind,  # type: ignore[arg-type]
                until,
                self.periods,
                actor,
                now,
                basis=basis,
                registry=self.registry,
            ),
        )

    def end_representation(
        self: Vault, patient_id: str, representative_id: str, actor: Actor
    ) -> None:
        """An authorised registry service ends a representation (a court decision, a
        change of parental authority)."""
        self._on_space(
            patient_id,
            actor,
            lambda s, now: s.end_representation(
                representative_id, "revoked", actor, now, registry=self.registry
            ),
        )

    # -- emergency access ----------------------------------------------------------

    def invoke_emergency_access(
        self: Vault, patient_id: str, justification: str, actor: Actor
    ) -> EmergencyGranted:
        """A professional declares an emergency access (bris de glace).

        Refused (and the refusal recorded) when the patient forbade emergency access.
        Reads during the access are logged with ``how = emergency``; the event names
        the patient, their representatives and the attending physician to notify.
        """
        access_id = uuid4()
        ok = self._on_space(
            patient_id,
            actor,
            lambda s, now: s.invoke_emergency_access(
                access_id, justification, self.periods, actor, now
            ),
        )
        if not ok:
            raise Refused(
                "the patient forbade emergency access", rule=Setting.EMERGENCY_ACCESS_FORBIDDEN
            )
        access = self._space(patient_id, actor).emergency_accesses[access_id]
        return EmergencyGranted(access_id, access.expires_at)

    # -- what the patient sees -------------------------------------------------------

    def grants(self: Vault, patient_id: str, actor: Actor) -> list[GrantSummary]:
        """The space's grants (care team included), for the patient or a representative.

        A documents scope lists only the documents the asker may see: a grant must not
        reveal a document kept from them.
        """
        space = self._space(patient_id, actor)
        now = self.clock.now()
        if not space.is_holder(actor, now):
            raise Forbidden("only the patient sees their grants")
        return [_grant_summary(space, g, actor, now) for g in space.grants.values()]

    def access_rules(self: Vault, patient_id: str, actor: Actor) -> AccessRules:
        """Who may currently read what: grants and care team, blocked professionals,
        the attending physician, settings, representatives, emergency accesses."""
        space = self._space(patient_id, actor)
        now = self.clock.now()
        if not space.is_holder(actor, now):
            raise Forbidden("only the patient sees who may read their space")
        physician = space.attending_physician
        return AccessRules(
            grants=[_grant_summary(space, g, actor, now) for g in space.grants.values()],
            blocked=[
                {
                    "id": p.id,
                    "name": p.name,
                    "profession": p.profession.value if p.profession else None,
                }
                for p in space.blocked.values()
            ],
            attending_physician={"id": physician.id, "name": physician.name} if physician else None,
            settings={setting.value: value for setting, value in space.settings.items()},
            representatives=[
                RepresentativeSummary(
                    id=r.representative.id,
                    name=r.representative.name,
                    kind=r.kind.value,
                    since=r.since,
                    until=r.until,
                    ended_at=r.ended_at,
                    active=r.active(now),
                )
                for r in space.representatives.values()
            ],
            emergency_accesses=[
                EmergencySummary(
                    access_id=e.id,
                    professional_id=e.professional.id,
                    professional_name=e.professional.name,
                    justification=e.justification,
                    started_at=e.started_at,
                    expires_at=e.expires_at,
                    active=e.active(now),
                )
                for e in space.emergency_accesses.values()
            ],
        )


def _grant_summary(space: Space, grant: Grant, actor: Actor, now: datetime) -> GrantSummary:
    scope = grant.scope.to_dict()
    if grant.scope.kind is ScopeKind.DOCUMENTS:
        scope["documents"] = [
            d for d in scope["documents"] if decide_read(space, UUID(d), actor, now).allowed
        ]
    profession = grant.grantee.profession
    return GrantSummary(
        grant_id=grant.id,
        grantee_id=grant.grantee.id,
        grantee_name=grant.grantee.name,
        grantee_profession=profession.value if profession else None,
        scope=scope,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        active=grant.active(now),
        basis=grant.basis.value,
    )
