"""Use cases of a document's confidentiality codes: ``masked`` (MASQUE_PS),
``invisible_to_patient`` (INVISIBLE_PATIENT, until an announcement consultation) and
``invisible_to_representatives`` (INVISIBLE_REPRESENTANTS_LEGAUX).

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods); each is one transaction on one space, and the space decides who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.periods import Periods
from domain.space import Space
from domain.values import Actor
from vault.core import VaultCore


@dataclass(frozen=True)
class Confidentiality:
    """Codes a depositor sets on a document, in the deposit's transaction.

    ``masked``: MASQUE_PS (hidden from professionals but its author);
    ``invisible_to_patient``: INVISIBLE_PATIENT (until an announcement consultation:
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
