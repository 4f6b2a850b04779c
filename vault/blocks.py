"""Use cases of who may read beyond grants: blocked professionals, the attending
physician, the patient's settings — and the holder's view of who may currently read
what (``access_rules``).

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods); each command is one transaction on one space.
"""

from __future__ import annotations

from domain.records import Setting
from domain.values import Actor
from vault.core import VaultCore, open_texts
from vault.grants import grant_summary
from wire.dto import AccessRules, EmergencySummary, RepresentativeSummary
from wire.errors import Forbidden


def block(core: VaultCore, patient_id: str, professional: Actor, actor: Actor) -> None:
    """Block a professional from every document of the space."""
    core.on_space(patient_id, actor, lambda s, now: s.block(professional, actor, now))


def unblock(core: VaultCore, patient_id: str, professional_id: str, actor: Actor) -> None:
    """Lift a block."""
    core.on_space(patient_id, actor, lambda s, now: s.unblock(professional_id, actor, now))


def designate_attending_physician(
    core: VaultCore, patient_id: str, physician: Actor | None, actor: Actor
) -> None:
    """Name the attending physician (médecin traitant), or none."""
    core.on_space(
        patient_id, actor, lambda s, now: s.designate_attending_physician(physician, actor, now)
    )


def change_setting(
    core: VaultCore, patient_id: str, setting: Setting | str, value: bool, actor: Actor
) -> None:
    """Change a space-level setting (emergency access, masked documents)."""
    core.on_space(
        patient_id,
        actor,
        lambda s, now: s.change_setting(setting, value, actor, now),  # type: ignore[arg-type]
    )


def access_rules(core: VaultCore, patient_id: str, actor: Actor) -> AccessRules:
    """Who may currently read what: grants and care team, blocked professionals,
    the attending physician, settings, representatives, emergency accesses."""
    space = core.space(patient_id, actor)
    now = core.clock.now()
    if not space.is_holder(actor, now):
        raise Forbidden("only the patient sees who may read their space")
    physician = space.attending_physician
    emergencies = list(space.emergency_accesses.values())
    representatives = list(space.representatives.values())
    # one key-store query opens the justifications and the representatives' names
    opened = open_texts(
        core,
        space.id,
        [*(e.justification for e in emergencies), *(r.name for r in representatives)],
    )
    justifications, names = opened[: len(emergencies)], opened[len(emergencies) :]
    return AccessRules(
        grants=[grant_summary(space, g, actor, now) for g in space.grants.values()],
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
                name=name,
                kind=r.kind.value,
                since=r.since,
                until=r.until,
                ended_at=r.ended_at,
                active=r.active(now),
            )
            for r, name in zip(representatives, names, strict=True)
        ],
        emergency_accesses=[
            EmergencySummary(
                access_id=e.id,
                professional_id=e.professional.id,
                professional_name=e.professional.name,
                justification=justification,
                started_at=e.started_at,
                expires_at=e.expires_at,
                active=e.active(now),
            )
            for e, justification in zip(emergencies, justifications, strict=True)
        ],
    )
