"""Reads on both backends: allowed, refused, revoked, expired, and never without a record."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from eventsourcing.persistence import OperationalError

from coffre.bootstrap import Coffre
from domain.values import Scope
from projections.access_log import LogFilter
from projections.runner import wait_for
from tests.scenarios.conftest import Cast, deposit, read
from vault.clock import ManualClock
from wire.envelope import unseal
from wire.errors import DecryptionError, Unavailable, UnknownDocument

PLAINTEXT = b"Hemoglobine 13.2 g/dL\n" * 50


def log_entries(coffre: Coffre, cast: Cast, **filters: object) -> list[dict[str, object]]:
    wait_for(coffre.runner)
    space_id = coffre.vault.authorise_log(cast.patient.actor.id, cast.patient.actor)
    return coffre.access_log.page(space_id, limit=200, where=LogFilter(**filters)).entries  # type: ignore[arg-type]


def test_the_patient_reads_their_own_document(coffre: Coffre, cast: Cast) -> None:
    # The hospital deposits; the patient reads it back intact.
    document_id = deposit(coffre, cast.patient.actor.id, PLAINTEXT, cast.hospital)
    assert read(coffre, cast.patient.actor.id, document_id, cast.patient) == PLAINTEXT


def test_a_read_without_a_grant_is_refused_and_recorded(coffre: Coffre, cast: Cast) -> None:
    document_id = deposit(coffre, cast.patient.actor.id, PLAINTEXT, cast.hospital)
    # A doctor with no grant is told the document does not exist...
    with pytest.raises(UnknownDocument):
        read(coffre, cast.patient.actor.id, document_id, cast.stranger)
    # ...and the patient sees the refused attempt, with its reason.
    refused = log_entries(coffre, cast, actor_id=cast.stranger.actor.id)
    assert [(e["action"], e["outcome"], e["reason"]) for e in refused] == [
        ("read", "refused", "not_authorised")
    ]


def test_a_grant_allows_and_a_revocation_stops_the_very_next_read(
    coffre: Coffre, cast: Cast
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, PLAINTEXT, cast.hospital)
    grant_id = coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    assert read(coffre, patient.id, document_id, cast.doctor) == PLAINTEXT
    # The patient revokes; the doctor's next read, right after, is refused.
    coffre.vault.revoke(patient.id, grant_id, patient)
    with pytest.raises(UnknownDocument):
        read(coffre, patient.id, document_id, cast.doctor)
    actions = [(e["action"], e["outcome"]) for e in log_entries(coffre, cast)]
    assert actions[:3] == [("read", "refused"), ("revoke", "allowed"), ("read", "allowed")]


def test_an_expired_grant_is_refused(coffre: Coffre, cast: Cast, clock: ManualClock) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, PLAINTEXT, cast.hospital)
    expiry = clock.now() + timedelta(hours=1)
    coffre.vault.grant(patient.id, cast.nurse.actor, Scope.whole_space(), expiry, patient)
    assert read(coffre, patient.id, document_id, cast.nurse) == PLAINTEXT
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(UnknownDocument):
        read(coffre, patient.id, document_id, cast.nurse)


def test_a_type_scoped_grant_covers_only_its_types(coffre: Coffre, cast: Cast) -> None:
    patient = cast.patient.actor
    lab = deposit(coffre, patient.id, b"lab", cast.hospital)
    report = deposit(coffre, patient.id, b"report", cast.hospital, type="hospital_report")  # type: ignore[arg-type]
    coffre.vault.grant(
        patient.id, cast.nurse.actor, Scope("types", frozenset({"lab_result"})), None, patient
    )  # type: ignore[arg-type]
    assert read(coffre, patient.id, lab, cast.nurse) == b"lab"
    with pytest.raises(UnknownDocument):
        read(coffre, patient.id, report, cast.nurse)
    # Listings never show what may not be read.
    listed = {d.document_id for d in coffre.vault.documents(patient.id, cast.nurse.actor)}
    assert listed == {lab}


def test_no_key_is_released_when_the_read_cannot_be_recorded(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, PLAINTEXT, cast.hospital)
    resealed: list[object] = []
    original_reseal = coffre.keyring.reseal
    monkeypatch.setattr(
        coffre.keyring, "reseal", lambda *a, **k: resealed.append(a) or original_reseal(*a, **k)
    )

    def failing_insert(*args: object, **kwargs: object) -> None:
        raise OperationalError("disk full")

    # The event store fails as the read is being recorded.
    monkeypatch.setattr(coffre.vault.recorder, "insert_events", failing_insert)
    with pytest.raises(Unavailable):
        coffre.vault.read(patient.id, document_id, patient, cast.patient.key_id)
    assert resealed == []


def test_a_resealed_key_opens_only_with_the_intended_readers_secret(
    coffre: Coffre, cast: Cast
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, PLAINTEXT, cast.hospital)
    coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    release = coffre.vault.read(patient.id, document_id, cast.doctor.actor, cast.doctor.key_id)
    sealed = base64.b64decode(release.sealed_key)
    unseal(sealed, bytes(cast.doctor.secret))  # the doctor opens it
    for other in (cast.patient, cast.nurse, cast.stranger):
        with pytest.raises(DecryptionError):
            unseal(sealed, bytes(other.secret))


def test_a_tampered_blob_is_refused_by_the_reader(coffre: Coffre, cast: Cast) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, PLAINTEXT, cast.hospital)
    space = coffre.vault.repository.get(coffre.vault.space_key(patient.id).space_id)
    blob = space.documents[document_id].current.ciphertext.blob
    stored = b"".join(coffre.blobs.open(blob))
    flipped = bytearray(stored)
    flipped[len(flipped) // 2] ^= 0x01
    coffre.blobs.delete(blob)
    coffre.blobs.put(blob, [bytes(flipped)])
    with pytest.raises(DecryptionError):
        read(coffre, patient.id, document_id, cast.patient)
