"""The unit tier's world: a ``Vault`` built on the shipped in-memory fakes.

Events go to eventsourcing's POPO recorder (``PERSISTENCE_MODULE=eventsourcing.popo``),
ciphertexts to ``vault.blobstore_memory.MemoryBlobStore``, wrapped space keys to
``keys.keystore.MemoryKeyStore``. Nothing touches a disk, a socket or a server, so
every test here runs in milliseconds; the same use cases on real backends are the
integration tier (``tests/scenarios``, ``tests/rules``).

Documents are encrypted and decrypted exactly as a client does (``wire.envelope``), so
an allowed read is proven by getting the plaintext back, not by a flag.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from nacl.public import PrivateKey

from domain.periods import Periods
from domain.representatives import LegalBasis, Registry
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from keys.keyring import Keyring
from keys.keystore import MemoryKeyStore
from keys.master import MasterKeys
from tests.devices import ENROLMENT_SERVICES, enrol
from vault.blobstore_memory import MemoryBlobStore
from vault.clock import ManualClock
from vault.service import Vault
from wire.envelope import DataKey, decrypt, encrypt, seal, unseal
from wire.values import DocumentMetadata, DocumentType, Profession, Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PATIENT_ID = patient_id_from_number("2870675123456")
REGISTRY = Actor(Role.SERVICE, "registre-ins", "Registre INS", organisation="CNAM")
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
BASIS = LegalBasis("TJ Lyon RG 26/04512", date(2026, 10, 12))


def professional(number: str, name: str, profession: Profession = Profession.DOCTOR) -> Actor:
    """A professional actor with a valid RPPS-like id."""
    return Actor(
        Role.PROFESSIONAL, professional_id_from_number(number), name, profession, "Cabinet"
    )


@dataclass
class Person:
    """An actor and the secret of its approved reader device."""

    actor: Actor
    secret: PrivateKey
    key_id: str


@dataclass
class World:
    """A vault in memory, its clock, and one patient's space ready to use."""

    vault: Vault
    clock: ManualClock
    patient: Person
    code: str

    @property
    def pid(self) -> str:
        """The patient's id (their space's name in every use case)."""
        return self.patient.actor.id

    def person(self, actor: Actor) -> Person:
        """An approved reader device for ``actor`` (``tests.devices.enrol``)."""
        return Person(actor, *enrol(self.vault, actor))

    def deposit(
        self,
        plaintext: bytes,
        author: Actor = HOSPITAL,
        *,
        type: DocumentType = DocumentType.LAB_RESULT,
        patient_id: str | None = None,
        **deposit_options: object,
    ) -> UUID:
        """Encrypt, upload and deposit as a client does; returns the document id."""
        pid = patient_id or self.pid
        key = DataKey.generate()
        receipt = self.vault.upload(pid, encrypt([plaintext], key, chunk_size=4096), author)
        space_key = self.vault.space_key(pid)
        sealed = seal(key, base64.b64decode(space_key.public_key))
        metadata = DocumentMetadata(type, "Bilan", date(2026, 10, 30))
        made = self.vault.deposit(pid, receipt.ticket, metadata, sealed, author, **deposit_options)  # type: ignore[arg-type]
        return made.document_id

    def read(self, document_id: UUID, person: Person, patient_id: str | None = None) -> bytes:
        """Read as a client does: release, unseal, fetch, decrypt."""
        release = self.vault.read(patient_id or self.pid, document_id, person.actor, person.key_id)
        key = unseal(base64.b64decode(release.sealed_key), bytes(person.secret))
        _, stream = self.vault.open_content(release.content_ticket)
        out = io.BytesIO()
        for piece in decrypt(stream, key):
            out.write(piece)
        return out.getvalue()

    def refusals(self) -> list[str]:
        """The rules named by every refused read recorded so far, oldest first."""
        events = (
            self.vault.mapper.to_domain_event(n)
            for n in self.vault.recorder.select_notifications(start=1, limit=100_000)
        )
        return [str(e.rule) for e in events if type(e).__name__ == "Refused"]


def memory_vault(clock: ManualClock, periods: Periods | None = None) -> Vault:
    """A ``Vault`` on the POPO recorder, the memory blob store and the memory key store."""
    return Vault(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        keyring=Keyring(MasterKeys.generate(), MemoryKeyStore()),
        blobs=MemoryBlobStore(clock=clock.now),
        ticket_key=os.urandom(32),
        clock=clock,
        periods=periods,
        registry=Registry(frozenset({REGISTRY.id})),
        enrolment=ENROLMENT_SERVICES,
    )


@pytest.fixture
def clock() -> ManualClock:
    """The unit tier's clock, starting at a fixed instant."""
    return ManualClock(T0)


@pytest.fixture
def vault(clock: ManualClock) -> Iterator[Vault]:
    """A fresh in-memory vault."""
    made = memory_vault(clock)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def world(vault: Vault, clock: ManualClock) -> World:
    """One patient's space, provisioned by the hospital and open (opposition over)."""
    patient = Actor(Role.PATIENT, PATIENT_ID, "Jeanne Martin")
    provisioned = vault.provision(PATIENT_ID, HOSPITAL)
    assert provisioned.opens_at is not None
    clock.advance(provisioned.opens_at - clock.now())
    made = World(vault, clock, None, provisioned.one_time_code)  # type: ignore[arg-type]
    made.patient = made.person(patient)
    return made
