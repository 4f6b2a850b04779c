"""A short, real history driven through the vault: deposits, a grant, reads, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from coffre.bootstrap import Coffre
from domain.values import Scope
from tests.scenarios.conftest import Cast, deposit, read
from vault.clock import ManualClock
from wire.errors import UnknownDocument


@dataclass
class History:
    """Ids the tests look for in the trail."""

    document_id: UUID
    grant_id: UUID
    sealed_keys: list[bytes]


def live_history(coffre: Coffre, cast: Cast, clock: ManualClock) -> History:
    """Deposit, grant, read, refuse, revoke, refuse again; a minute between steps."""
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, b"Hemoglobine 13.2 g/dL", cast.hospital)
    clock.advance(timedelta(minutes=1))
    grant_id = coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    clock.advance(timedelta(minutes=1))
    read(coffre, patient.id, document_id, cast.doctor)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(UnknownDocument):
        read(coffre, patient.id, document_id, cast.stranger)
    clock.advance(timedelta(minutes=1))
    read(coffre, patient.id, document_id, cast.patient)
    coffre.vault.revoke(patient.id, grant_id, patient)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(UnknownDocument):
        read(coffre, patient.id, document_id, cast.doctor)
    space = coffre.vault.repository.get(coffre.vault.space_key(patient.id).space_id)
    sealed = [v.sealed_key.encode() for d in space.documents.values() for v in d.versions]
    return History(document_id, grant_id, sealed)
