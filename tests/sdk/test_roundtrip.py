"""Deposit then read through the SDK, against the real app in process.

Every byte that crosses the API is ciphertext; these tests prove the plaintext comes
back identical, whatever the source and sink kinds, and that a tampered or truncated
ciphertext never lands as a file.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from tests.sdk.conftest import DOCTOR, HOSPITAL, PATIENT, STRANGER, Enrol
from wire.envelope import CHUNK_SIZE, ciphertext_size
from wire.errors import IntegrityFailure, UnknownDocument

Connect = Callable[..., CoffreClient]

SIZES = {"empty": 0, "one-byte": 1, "one-chunk": CHUNK_SIZE, "1MiB": 1024 * 1024}


def _content(size: int) -> bytes:
    return os.urandom(size)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_path_to_path_round_trip(
    connect: Connect, space: str, tmp_path: Path, size: int, enrol: Enrol
) -> None:
    # The hospital deposits a file; the patient reads it back into another file.
    original = _content(size)
    source = tmp_path / "in.bin"
    source.write_bytes(original)
    seen: list[tuple[int, int | None]] = []
    document_id, version = connect(HOSPITAL).deposit(
        space,
        source,
        type="lab_result",
        title="Bilan",
        date=date(2026, 1, 2),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert version == 1
    # Upload progress counts ciphertext bytes, and knows the total from the file size.
    assert seen[0] == (0, ciphertext_size(size))
    assert seen[-1] == (ciphertext_size(size), ciphertext_size(size))

    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    target = tmp_path / "out" / "copy.bin"
    target.parent.mkdir()
    downloaded: list[tuple[int, int | None]] = []
    callers: set[int] = set()

    def on_download(done: int, total: int | None) -> None:
        callers.add(threading.get_ident())
        downloaded.append((done, total))

    summary = patient.read(space, document_id, target, progress=on_download)

    assert target.read_bytes() == original
    assert summary.document_id == document_id and summary.title == "Bilan"
    assert summary.size == ciphertext_size(size)
    assert downloaded[-1] == (ciphertext_size(size), ciphertext_size(size))
    # the download is read ahead in a thread of its own; progress is still the caller's
    assert callers == {threading.get_ident()}
    assert os.listdir(target.parent) == ["copy.bin"]  # no temporary file left behind


@pytest.mark.parametrize(
    "make_source",
    [
        pytest.param(lambda data: io.BytesIO(data), id="file-object"),
        pytest.param(
            lambda data: (data[i : i + 1000] for i in range(0, len(data), 1000)), id="iterable"
        ),
        pytest.param(lambda data: data, id="bytes"),
    ],
)
def test_other_sources_and_a_file_sink(
    connect: Connect, space: str, make_source: Callable, enrol: Enrol
) -> None:
    original = _content(150_000)
    document_id, _ = connect(HOSPITAL).deposit(
        space, make_source(original), type="prescription", title="Ordonnance", date="2026-02-03"
    )
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    sink = io.BytesIO()
    patient.read(space, document_id, sink)
    assert sink.getvalue() == original


def test_a_new_version_replaces_the_content(connect: Connect, space: str, enrol: Enrol) -> None:
    hospital = connect(HOSPITAL)
    document_id, _ = hospital.deposit(
        space, b"v1", type="lab_result", title="Bilan", date=date.today()
    )
    same, version = hospital.deposit(
        space,
        b"v2",
        type="lab_result",
        title="Bilan (corrigé)",
        date=date.today(),
        document_id=document_id,
    )
    assert (same, version) == (document_id, 2)
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    sink = io.BytesIO()
    assert patient.read(space, document_id, sink).version == 2
    assert sink.getvalue() == b"v2"


def _only_blob(coffre: Coffre) -> Path:
    blobs = [p for p in (coffre.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    return blobs[0]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda b: b[:100_000] + bytes([b[100_000] ^ 1]) + b[100_001:], id="flip-middle"
        ),
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 0x80]), id="flip-last-byte"),
        pytest.param(lambda b: b[: len(b) - CHUNK_SIZE - 17], id="truncated-by-a-record"),
    ],
)
def test_tampered_ciphertext_never_lands(
    connect: Connect,
    space: str,
    coffre: Coffre,
    tmp_path: Path,
    damage: Callable[[bytes], bytes],
    enrol: Enrol,
) -> None:
    document_id, _ = connect(HOSPITAL).deposit(
        space, _content(300_000), type="lab_result", title="Bilan", date=date.today()
    )
    blob = _only_blob(coffre)
    blob.write_bytes(damage(blob.read_bytes()))  # someone with disk access edits the blob

    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    target = tmp_path / "out" / "copy.bin"
    target.parent.mkdir()
    with pytest.raises(IntegrityFailure):  # DecryptionError is one too
        patient.read(space, document_id, target)
    assert os.listdir(target.parent) == []  # neither the file nor a temporary one


def test_the_server_only_stores_ciphertext(connect: Connect, space: str, coffre: Coffre) -> None:
    marker = b"HEMOGLOBINE-13.2-g/dL" * 100
    connect(HOSPITAL).deposit(space, marker, type="lab_result", title="Bilan", date=date.today())
    stored = _only_blob(coffre).read_bytes()
    assert stored.startswith(b"COFFRE\x01") and b"HEMOGLOBINE" not in stored


def test_a_granted_doctor_reads_with_their_own_key(
    connect: Connect, space: str, enrol: Enrol
) -> None:
    document_id, _ = connect(HOSPITAL).deposit(
        space, b"compte rendu", type="hospital_report", title="CR", date=date.today()
    )
    connect(PATIENT).grant(space, {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"})
    doctor = connect(DOCTOR)
    assert enrol(doctor, DOCTOR) == doctor.reader_key.key_id
    assert enrol(doctor, DOCTOR) == doctor.reader_key.key_id  # idempotent
    assert [d.document_id for d in doctor.documents(space)] == [document_id]
    sink = io.BytesIO()
    doctor.read(space, document_id, sink)
    assert sink.getvalue() == b"compte rendu"


def test_a_refused_read_leaves_no_file(
    connect: Connect, space: str, tmp_path: Path, enrol: Enrol
) -> None:
    document_id, _ = connect(HOSPITAL).deposit(
        space, b"cr", type="hospital_report", title="CR", date=date.today()
    )
    stranger = connect(STRANGER)
    enrol(stranger, STRANGER)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnknownDocument):
        stranger.read(space, document_id, out / "copy.bin")
    assert os.listdir(out) == []


def test_an_unwritable_target_fails_before_the_read_is_recorded(
    connect: Connect, space: str, tmp_path: Path, enrol: Enrol
) -> None:
    document_id, _ = connect(HOSPITAL).deposit(
        space, b"cr", type="hospital_report", title="CR", date=date.today()
    )
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    with pytest.raises(FileNotFoundError):
        patient.read(space, document_id, tmp_path / "no-such-dir" / "copy.bin")
    assert patient.access_log(space, action="read")["entries"] == []
