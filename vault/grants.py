"""Use cases of grants and the care team: the patient grants and revokes, an
establishment declares a member of the care team, the holder lists the grants.

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods); each command is one transaction on one space.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from domain.reads import decide_read
from domain.space import Grant, Space
from domain.values import Actor, Scope, ScopeKind
from vault.core import VaultCore
from wire.dto import GrantSummary
from wire.errors import Forbidden


def grant(
    core: VaultCore,
    patient_id: str,
    grantee: Actor,
    scope: Scope,
    expires_at: datetime | None,
    actor: Actor,
) -> UUID:
    """The patient grants a professional access to ``scope``; returns the grant id.

    One grant per professional: an active one is changed, and its id returned.
    """
    grant_id = uuid4()
    return core.on_space(
        patient_id, actor, lambda s, now: s.grant(grant_id, grantee, scope, expires_at, actor, now)
    )


def revoke(core: VaultCore, patient_id: str, grant_id: UUID, actor: Actor) -> None:
    """The patient revokes a grant; effective on the grantee's very next read."""
    core.on_space(patient_id, actor, lambda s, now: s.revoke(grant_id, actor, now))


def revoke_professional(
    core: VaultCore, patient_id: str, professional_id: str, actor: Actor
) -> UUID:
    """The patient ends a professional's access (their active grant); returns its id."""
    return core.on_space(
        patient_id, actor, lambda s, now: s.revoke_professional(professional_id, actor, now)
    )


def add_to_care_team(
    core: VaultCore,
    patient_id: str,
    professional: Actor,
    expires_at: datetime | None,
    actor: Actor,
) -> UUID:
    """An establishment declares a member of the care team; returns the grant id."""
    return core.on_space(
        patient_id,
        actor,
        lambda s, now: s.add_to_care_team(uuid4(), professional, expires_at, actor, now),
    )


def grants(core: VaultCore, patient_id: str, actor: Actor) -> list[GrantSummary]:
    """The space's grants (care team included), for the patient or a representative.

    A documents scope lists only the documents the asker may see: a grant must not
    reveal a document kept from them.
    """
    with core.held_space(patient_id, actor) as space:
        now = core.clock.now()
        if not space.is_holder(actor, now):
            raise Forbidden("only the patient sees their grants")
        return [grant_summary(space, g, actor, now) for g in space.grants.values()]


def grant_summary(space: Space, one: Grant, actor: Actor, now: datetime) -> GrantSummary:
    """One grant as ``actor`` may see it (documents they may not see left out)."""
    scope = one.scope.to_dict()
    if one.scope.kind is ScopeKind.DOCUMENTS:
        scope["documents"] = [
            d for d in scope["documents"] if decide_read(space, UUID(d), actor, now).allowed
        ]
    profession = one.grantee.profession
    return GrantSummary(
        grant_id=one.id,
        grantee_id=one.grantee.id,
        grantee_name=one.grantee.name,
        grantee_profession=profession.value if profession else None,
        scope=scope,
        granted_at=one.granted_at,
        expires_at=one.expires_at,
        revoked_at=one.revoked_at,
        active=one.active(now),
        basis=one.basis.value,
    )
