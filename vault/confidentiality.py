"""Use cases of a document's confidentiality codes: ``masked`` (MASQUE_PS),
``invisible_to_patient`` (INVISIBLE_PATIENT, until an announcement consultation) and
``invisible_to_representatives`` (INVISIBLE_REPRESENTANTS_LEGAUX).

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods); each is one transaction on one space, and the space decides who may. The
codes set with a deposit are a ``domain.confidentiality.Confidentiality``.
"""

from __future__ import annotations

from uuid import UUID

from domain.confidentiality import Confidentiality
from domain.values import Actor
from vault.core import VaultCore

# Re-exported for the callers that imported it from here before it moved to the domain.
__all__ = [
    "Confidentiality",
    "change_codes",
    "hide_from_representatives",
    "mask",
    "release_to_patient",
    "unmask",
]


def change_codes(
    core: VaultCore, patient_id: str, document_id: UUID, actor: Actor, wanted: Confidentiality
) -> None:
    """Give a document the codes ``wanted``, each change by its own command, in one
    transaction (nothing is recorded if one of them is refused)."""
    core.on_space(
        patient_id,
        actor,
        lambda s, now: s.change_codes(document_id, wanted, core.periods, actor, now),
    )


def mask(core: VaultCore, patient_id: str, document_id: UUID, actor: Actor) -> None:
    """Mask a document from professionals (MASQUE_PS)."""
    core.on_space(patient_id, actor, lambda s, now: s.mask(document_id, actor, now))


def unmask(core: VaultCore, patient_id: str, document_id: UUID, actor: Actor) -> None:
    """Show a masked document to professionals again."""
    core.on_space(patient_id, actor, lambda s, now: s.unmask(document_id, actor, now))


def hide_from_representatives(
    core: VaultCore, patient_id: str, document_id: UUID, actor: Actor
) -> None:
    """Make a document invisible to the legal representatives (a minor's right)."""
    core.on_space(
        patient_id, actor, lambda s, now: s.hide_from_representatives(document_id, actor, now)
    )


def release_to_patient(core: VaultCore, patient_id: str, document_id: UUID, actor: Actor) -> None:
    """The author releases a document invisible to the patient (after the announcement
    consultation)."""
    core.on_space(patient_id, actor, lambda s, now: s.release_to_patient(document_id, actor, now))
