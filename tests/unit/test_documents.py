"""Deposits on the in-memory vault: the envelope check, receipts bound to a space and
a depositor, new versions, deletion, and listings that count only what may be read.
"""

from __future__ import annotations

import base64
from datetime import date

import pytest

from domain.values import Actor, patient_id_from_number
from tests.unit.conftest import HOSPITAL, World
from tests.unit.test_reads import DOCTOR, refused
from vault.blobstore_memory import MemoryBlobStore
from wire.envelope import DataKey, encrypt, seal
from wire.errors import Conflict, InvalidInput, UnknownSpace
from wire.values import DocumentMetadata, DocumentType, Role

METADATA = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 30))


def _blobs(world: World) -> list[str]:
    blobs = world.vault.blobs
    assert isinstance(blobs, MemoryBlobStore)
    return list(blobs.names())


def test_a_body_that_is_not_an_envelope_is_refused_and_nothing_is_stored(world: World) -> None:
    with pytest.raises(InvalidInput, match="not a Coffre envelope"):
        world.vault.upload(world.pid, [b"%PDF-1.7 plaintext"], HOSPITAL)
    assert _blobs(world) == []


def test_a_receipt_is_for_its_space_and_depositor_and_is_deposited_once(world: World) -> None:
    key = DataKey.generate()
    receipt = world.vault.upload(world.pid, encrypt([b"x"], key), HOSPITAL)
    sealed = seal(key, base64.b64decode(world.vault.space_key(world.pid).public_key))
    other_service = Actor(Role.SERVICE, "labo-x", "Labo X")
    with pytest.raises(InvalidInput, match="another space or depositor"):
        world.vault.deposit(world.pid, receipt.ticket, METADATA, sealed, other_service)
    world.vault.deposit(world.pid, receipt.ticket, METADATA, sealed, HOSPITAL)
    with pytest.raises(Conflict, match="already deposited"):
        world.vault.deposit(world.pid, receipt.ticket, METADATA, sealed, HOSPITAL)
    assert len(world.vault.documents(world.pid, world.patient.actor)) == 1


def test_a_new_version_replaces_what_readers_get(world: World) -> None:
    document = world.deposit(b"v1")
    again = world.deposit(b"v2", document_id=document)
    assert again == document
    (listed,) = world.vault.documents(world.pid, world.patient.actor)
    assert listed.version == 2
    assert world.read(document, world.patient) == b"v2"


def test_the_patient_deposits_in_their_own_space_and_nobody_in_a_missing_one(
    world: World,
) -> None:
    document = world.deposit(b"note", world.patient.actor, type=DocumentType.PATIENT_NOTE)
    assert world.read(document, world.patient) == b"note"
    missing = patient_id_from_number("2920133123456")
    with pytest.raises(UnknownSpace):
        world.vault.upload(missing, [b"x"], HOSPITAL)


def test_a_deleted_document_is_listed_to_nobody_and_read_by_nobody(world: World) -> None:
    kept = world.deposit(b"kept")
    gone = world.deposit(b"gone", DOCTOR)
    world.vault.delete_document(world.pid, gone, world.patient.actor)
    listed = [d.document_id for d in world.vault.documents(world.pid, world.patient.actor)]
    assert listed == [kept]
    assert refused(world, gone, world.person(DOCTOR)) == "document_deleted"
