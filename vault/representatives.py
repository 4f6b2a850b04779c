"""Use cases of legal representatives: appointed and ended by an authorised registry
service (``COFFRE_REGISTRY_SERVICES``) on a legal basis; the space decides who may.

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods); each is one transaction on one space.
"""

from __future__ import annotations

from datetime import datetime

from domain.records import RepresentativeKind
from domain.representatives import LegalBasis
from domain.values import Actor
from vault.core import VaultCore, space_seal


def add_representative(
    core: VaultCore,
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
    representatives are notified. Any other caller: ``Forbidden``. The representative's
    name and the act's reference are recorded sealed to the space key."""
    core.on_space(
        patient_id,
        actor,
        lambda s, now: s.add_representative(
            representative,
            kind,  # type: ignore[arg-type]
            until,
            core.periods,
            actor,
            now,
            basis=basis,
            registry=core.registry,
            # the name and the act's reference, sealed to the space key: shredding the
            # space destroys them with the rest
            seal=space_seal(s),
        ),
    )


def end_representation(
    core: VaultCore, patient_id: str, representative_id: str, actor: Actor
) -> None:
    """An authorised registry service ends a representation (a court decision, a
    change of parental authority)."""
    core.on_space(
        patient_id,
        actor,
        lambda s, now: s.end_representation(
            representative_id, "revoked", actor, now, registry=core.registry
        ),
    )
