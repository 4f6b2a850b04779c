"""The two backend pairings every scenario runs on: (SQLite, files) and (PostgreSQL, S3).

Scenarios drive the vault service directly, encrypting on the "client" side with
``wire.envelope`` exactly as the SDK does, so that what they prove holds for any client.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from nacl.public import PrivateKey

from coffre.bootstrap import Coffre, build
from domain.values import (
    Actor,
    Ciphertext,
    patient_id_from_number,
    professional_id_from_number,
)
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol
from vault.clock import ManualClock
from vault.settings import Settings
from wire.envelope import DataKey, decrypt, encrypt, seal, unseal
from wire.values import DocumentMetadata, DocumentType, Profession, Role

BACKENDS = ["sqlite-fs", pytest.param("postgres-s3", marks=[pytest.mark.postgres, pytest.mark.s3])]


def backend_settings(request: pytest.FixtureRequest, backend: str, data_dir: Path) -> Settings:
    """Settings for one backend pairing, using the real servers for postgres-s3."""
    if backend == "sqlite-fs":
        return Settings(data_dir=data_dir)  # the demo's enrolment service by default
    return postgres_s3_settings(
        data_dir,
        request.getfixturevalue("pg_database"),
        request.getfixturevalue("s3_server"),
        request.getfixturevalue("s3_bucket"),
        master_keys=MasterKeys.generate().current.to_line(),
    )


def postgres_s3_settings(
    data_dir: Path,
    pg: dict[str, str],
    s3: dict[str, str],
    bucket: str,
    *,
    master_keys: str,
) -> Settings:
    """Settings of a (PostgreSQL, S3) deployment on the test servers, with the test
    enrolment service (which approves the readers' devices)."""
    return Settings(
        data_dir=data_dir,
        database="postgres",
        env="development",
        pg_host=pg["host"],
        pg_port=int(pg["port"]),
        pg_user=pg["user"],
        pg_dbname=pg["dbname"],
        blob_store="s3",
        s3_endpoint=s3["endpoint"],
        s3_access_key=s3["access_key"],
        s3_secret_key=s3["secret_key"],
        s3_bucket=bucket,
        master_keys=master_keys,
        enrolment_services=ENROLMENT.id,
    )


@pytest.fixture
def clock() -> ManualClock:
    """The scenario's clock, starting at a fixed instant."""
    return ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(params=BACKENDS)
def coffre(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """A fully built Coffre on one backend pairing."""
    settings = backend_settings(request, request.param, tmp_path / "data")
    built = build(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()


@dataclass
class Person:
    """An actor with an approved reader device (its X25519 secret and key id)."""

    actor: Actor
    secret: PrivateKey
    key_id: str


@dataclass
class Cast:
    """The people of a scenario."""

    hospital: Actor
    patient: Person
    doctor: Person
    nurse: Person
    stranger: Person
    #: the newest event once the cast was ready (their spaces and devices made)
    ready_at: int = 0


def _person(coffre: Coffre, actor: Actor) -> Person:
    return Person(actor, *enrol(coffre.vault, actor))


def open_space(coffre: Coffre, clock: ManualClock, patient_id: str, by: Actor) -> None:
    """Provision a space and let its opposition period pass.

    A space is pending for six weeks after provisioning (RULES.md); documents can be
    deposited only once it is open, so "ready to deposit" means after the deadline.
    The space is open from that instant whether or not the scheduler has run (it would
    only record ``Opened``), so the scenarios' access logs are as they were.
    """
    provisioned = coffre.vault.provision(patient_id, by)
    assert provisioned.opens_at is not None
    clock.advance(provisioned.opens_at - clock.now())


@pytest.fixture
def cast(coffre: Coffre, clock: ManualClock) -> Cast:
    """A provisioned patient, a hospital, two granted-or-not professionals and a stranger."""
    hospital = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
    patient_id = patient_id_from_number("2870675123456")
    open_space(coffre, clock, patient_id, hospital)

    def pro(n: str, name: str, profession: Profession) -> Actor:
        return Actor(Role.PROFESSIONAL, professional_id_from_number(n), name, profession, "Cabinet")

    cast = Cast(
        hospital=hospital,
        patient=_person(coffre, Actor(Role.PATIENT, patient_id, "Jeanne Martin")),
        doctor=_person(coffre, pro("1000000001", "Dr Paul Durand", Profession.DOCTOR)),
        nurse=_person(coffre, pro("1000000002", "Inès Roux", Profession.NURSE)),
        stranger=_person(coffre, pro("1000000003", "Dr Marc Petit", Profession.DOCTOR)),
    )
    cast.ready_at = coffre.vault.recorder.max_notification_id() or 0
    return cast


def deposit(
    coffre: Coffre,
    patient_id: str,
    plaintext: bytes,
    author: Actor,
    *,
    type: DocumentType = DocumentType.LAB_RESULT,
    title: str = "Bilan sanguin",
    data_key: DataKey | None = None,
) -> UUID:
    """Encrypt on the client side, upload, and deposit; returns the document id."""
    key = data_key or DataKey.generate()
    space_key = coffre.vault.space_key(patient_id)
    receipt = coffre.vault.upload(patient_id, encrypt([plaintext], key, chunk_size=4096), author)
    sealed = seal(key, base64.b64decode(space_key.public_key))
    result = coffre.vault.deposit(
        patient_id,
        receipt.ticket,
        DocumentMetadata(type, title, date(2026, 10, 30)),
        sealed,
        author,
    )
    return result.document_id


def read(coffre: Coffre, patient_id: str, document_id: UUID, person: Person) -> bytes:
    """Read as ``person`` does: release, unseal, download, decrypt."""
    release = coffre.vault.read(patient_id, document_id, person.actor, person.key_id)
    key = unseal(base64.b64decode(release.sealed_key), bytes(person.secret))
    _, stream = coffre.vault.open_content(release.content_ticket)
    out = io.BytesIO()
    for piece in decrypt(stream, key):
        out.write(piece)
    return out.getvalue()


def grow(coffre: Coffre, patient_id: str, author: Actor, count: int) -> list[UUID]:
    """``count`` deposits recorded in one transaction, their blobs never stored (a big
    space, quickly, for listings and reads that release keys only): their ids."""
    space_key = coffre.vault.space_key(patient_id)
    sealed = seal(DataKey.generate(), base64.b64decode(space_key.public_key))
    ids = [uuid4() for _ in range(count)]
    meta = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 1))

    def command(space: Any, now: datetime) -> None:
        for document_id in ids:
            blob = Ciphertext(uuid4().hex, 4096, "0" * 64)  # listed, never fetched
            space.deposit(document_id, meta, blob, sealed, author, now)

    coffre.vault.on_space(patient_id, author, command)
    return ids
