"""The patient's export (issue 15): the archive decrypts and verifies offline, a
tampered archive is refused naming the item, it re-imports byte-identical into a new
space, the export's reads appear in the access log, and a representative's export
leaves out what the rules keep from them."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from client.cli import app as cli
from client.export_verify import (
    ExportVerificationError,
    documents_of,
    open_document,
    verify_archive,
)
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from domain.values import Actor, patient_id_from_number
from tests.sdk.conftest import HOSPITAL, PATIENT, Enrol
from vault.settings import DEMO_REGISTRY
from wire.errors import ExportInProgress, Unavailable
from wire.values import Role

Connect = Callable[[Actor], CoffreClient]

GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1620575123456"), "Paul Martin")
REGISTRY = Actor(Role.SERVICE, DEMO_REGISTRY, "Registre d'état civil")
COURT = {"basis_reference": "TJ Lyon RG 24/01234", "basis_date": date(2026, 1, 15)}
NEW_PATIENT = Actor(Role.PATIENT, patient_id_from_number("2900175123456"), "Alice Martin")

DOCUMENTS = 200
READS_EACH = 3  # reads before the export, so that its log holds >= 1,000 entries


def _content(n: int) -> bytes:
    return f"compte rendu {n}\n".encode() * (n % 7 + 1)


def _export(
    coffre: Coffre, connect: Connect, enrol: Enrol, target: Path, documents: int, reads: int
) -> tuple[CoffreClient, dict[UUID, bytes]]:
    """Deposit ``documents``, read each ``reads`` times, export as the patient."""
    hospital = connect(HOSPITAL)
    hospital.provision(PATIENT.id)
    contents = {}
    for n in range(documents):
        document_id, _ = hospital.deposit(
            PATIENT.id, _content(n), type="lab_result", title=f"Bilan {n}", date="2026-01-02"
        )
        contents[document_id] = _content(n)
    patient = connect(PATIENT)
    key_id = enrol(patient, PATIENT)
    # recorded reads straight through the use case, the log growing without fetching
    # bytes; concurrent, as concurrent reads of a space share a commit (vault.groupcommit)
    with ThreadPoolExecutor(8) as pool:
        wanted = list(contents) * reads
        list(pool.map(lambda d: coffre.vault.read(PATIENT.id, d, PATIENT, key_id), wanted))
    seen: list[int] = []
    patient.export(PATIENT.id, target, progress=lambda done, total: seen.append(done))
    assert seen and seen[-1] == target.stat().st_size
    return patient, contents


@pytest.fixture
def exported(
    coffre: Coffre, connect: Connect, enrol: Enrol, tmp_path: Path
) -> tuple[Path, CoffreClient, dict[UUID, bytes]]:
    """A space of 200 documents read 3 times each, exported by its patient."""
    archive = tmp_path / "export.zip"
    patient, contents = _export(coffre, connect, enrol, archive, DOCUMENTS, READS_EACH)
    return archive, patient, contents


def test_an_export_decrypts_verifies_offline_and_is_in_the_log(
    exported: tuple[Path, CoffreClient, dict[UUID, bytes]],
) -> None:
    archive, patient, contents = exported
    key_set = patient.trail_keys()
    report = verify_archive(archive, key_set, patient.reader_key)
    assert report.documents == DOCUMENTS
    assert report.log_entries >= 1_000
    assert report.proved_entries >= report.log_entries

    # the export's own reads are in the access log it carries (and the log's own)
    with zipfile.ZipFile(archive) as opened:
        log = [json.loads(line) for line in opened.read("access_log.ndjson").splitlines()]
        references = opened.read("fhir/DocumentReference.ndjson").splitlines()
        # the patient's own key opens every document to the very bytes deposited
        for record in documents_of(opened):
            plaintext = b"".join(open_document(opened, record, patient.reader_key))
            assert plaintext == contents[UUID(record["document"]["document_id"])]
    reads = [row for row in log if row["action"] == "read"]
    assert len(reads) == DOCUMENTS * (READS_EACH + 1)
    # titles are sealed in the events: the archive's log shows them opened, as the page
    assert {row["document_title"] for row in reads} == {f"Bilan {n}" for n in range(DOCUMENTS)}
    assert len(references) == DOCUMENTS
    exports = patient.access_log_entries(PATIENT.id, action="read")
    assert sum(1 for _ in exports) == len(reads)


def test_a_new_space_reimports_the_same_bytes(
    coffre: Coffre, connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    # RULES.md closure row 7: the archive of one space, deposited into a new one
    archive = tmp_path / "export.zip"
    patient, contents = _export(coffre, connect, enrol, archive, 12, 0)
    hospital = connect(HOSPITAL)
    hospital.provision(NEW_PATIENT.id)
    created = hospital.import_export(archive, NEW_PATIENT.id, reader=patient.reader_key)
    newcomer = connect(NEW_PATIENT)
    enrol(newcomer, NEW_PATIENT)
    assert sorted(map(str, created)) == sorted(map(str, contents))
    for old_id, new_id in created.items():
        copy = BytesIO()
        newcomer.read(NEW_PATIENT.id, new_id, copy)
        assert copy.getvalue() == contents[old_id]


def _rewrite(archive: Path, target: Path, edit: Callable[[str, bytes], bytes]) -> None:
    """Copy ``archive`` to ``target``, each member through ``edit``; the manifest's hash
    of an edited member is updated too only when ``edit`` changes the manifest."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            out.writestr(name, edit(name, source.read(name)))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_a_tampered_archive_is_refused_naming_the_item(
    coffre: Coffre, connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    archive = tmp_path / "export.zip"
    patient, _ = _export(coffre, connect, enrol, archive, 10, 1)
    key_set, reader = patient.trail_keys(), patient.reader_key
    with zipfile.ZipFile(archive) as opened:
        envelope = next(n for n in opened.namelist() if n.endswith(".envelope"))

    # a document: one ciphertext byte changed
    bad = tmp_path / "document.zip"
    _rewrite(archive, bad, lambda n, d: _flip(d, len(d) // 2) if n == envelope else d)
    with pytest.raises(ExportVerificationError) as refused:
        verify_archive(bad, key_set, reader)
    assert refused.value.item == envelope

    # a log entry: one entry's actor changed
    bad = tmp_path / "log.zip"

    def edit_log(name: str, data: bytes) -> bytes:
        if name != "access_log.ndjson":
            return data
        return data.replace(b"Alice Martin", b"Alice Mertin", 1)

    _rewrite(archive, bad, edit_log)
    with pytest.raises(ExportVerificationError) as refused:
        verify_archive(bad, key_set, reader)
    assert refused.value.item == "access_log.ndjson"

    # a proof: one node of an entry's inclusion proof changed, the manifest rehashed
    bad = tmp_path / "proof.zip"
    with zipfile.ZipFile(archive) as opened:
        lines = opened.read("trail/entries.ndjson").splitlines(keepends=True)
    first = json.loads(lines[0])
    first["inclusion_proof"][0] = "00" * 32
    lines[0] = (json.dumps(first, sort_keys=True) + "\n").encode()
    entries = b"".join(lines)

    def edit_proof(name: str, data: bytes) -> bytes:
        if name == "trail/entries.ndjson":
            return entries
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"]["trail/entries.ndjson"] = hashlib.sha256(entries).hexdigest()
            return json.dumps(manifest).encode()
        return data

    _rewrite(archive, bad, edit_proof)
    with pytest.raises(ExportVerificationError) as refused:
        verify_archive(bad, key_set, reader)
    assert refused.value.item == f"entry {first['entry_id']}"

    # the same, offline from the command line: the good archive passes, a bad one fails
    keys, device = tmp_path / "keys.json", tmp_path / "device.key"
    keys.write_text(json.dumps(key_set.to_json()))
    reader.save(device)
    runner = CliRunner()
    verify = ["export", "verify", "--keys", str(keys), "--reader-key", str(device)]
    good = runner.invoke(cli, [*verify, str(archive)])
    assert good.exit_code == 0, good.output
    assert "10 documents decrypted" in good.output
    failed = runner.invoke(cli, [*verify, str(bad)])
    assert failed.exit_code == 1
    assert f"entry {first['entry_id']}" in failed.output


def test_a_representative_export_leaves_out_what_is_kept_from_them(
    connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    hospital = connect(HOSPITAL)
    hospital.provision(PATIENT.id)
    shown, _ = hospital.deposit(PATIENT.id, b"vu", type="lab_result", title="A", date="2026-01-02")
    hidden, _ = hospital.deposit(
        PATIENT.id,
        b"cache",
        type="lab_result",
        title="B",
        date="2026-01-02",
        invisible_to_representatives=True,
    )
    connect(REGISTRY).add_representative(
        PATIENT.id,
        GUARDIAN.id,
        GUARDIAN.name,
        "guardian",
        datetime.now(UTC) + timedelta(days=365),
        **COURT,
    )
    guardian = connect(GUARDIAN)
    enrol(guardian, GUARDIAN)
    archive = tmp_path / "guardian.zip"
    guardian.export(PATIENT.id, archive)
    report = verify_archive(archive, guardian.trail_keys(), guardian.reader_key)
    assert report.documents == 1
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert f"documents/{shown}.envelope" in names
    assert not any(str(hidden) in name for name in names)
    assert "access_log.ndjson" not in names  # the log is the patient's own


def test_a_document_held_for_announcement_leaves_no_trace_in_the_patients_export(
    connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    hospital = connect(HOSPITAL)
    hospital.provision(PATIENT.id)
    hospital.deposit(PATIENT.id, b"vu", type="lab_result", title="A", date="2026-01-02")
    held, _ = hospital.deposit(
        PATIENT.id,
        b"en attente",
        type="lab_result",
        title="B",
        date="2026-01-02",
        invisible_to_patient=True,
    )
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    archive = tmp_path / "patient.zip"
    patient.export(PATIENT.id, archive)
    report = verify_archive(archive, patient.trail_keys(), patient.reader_key)
    assert report.documents == 1
    with zipfile.ZipFile(archive) as opened:
        for name in opened.namelist():  # neither a file, a log entry nor a trail entry
            assert str(held).encode() not in opened.read(name), name


def test_exports_are_one_per_caller_and_bounded_per_process(
    coffre: Coffre, connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    # An export reads a whole space: a second one by the same caller is a 409 and one
    # beyond the process's bound a 503, both before anything is read or recorded.
    hospital = connect(HOSPITAL)
    for patient_id in (PATIENT.id, NEW_PATIENT.id):
        hospital.provision(patient_id)
        hospital.deposit(patient_id, b"x", type="lab_result", title="Bilan", date="2026-01-02")
    patient, other = connect(PATIENT), connect(NEW_PATIENT)
    enrol(patient, PATIENT)
    enrol(other, NEW_PATIENT)
    jobs = coffre.exports
    assert jobs is not None
    jobs.concurrency = 1
    gate, assemble = threading.Event(), jobs.assemble
    jobs.assemble = lambda *args: gate.wait(30) and assemble(*args)
    before = coffre.runner.source.last_id()
    try:
        first = patient.start_export(PATIENT.id)  # still being built: held at the gate
        with pytest.raises(ExportInProgress):
            patient.start_export(PATIENT.id)
        # the patient's export holds the process's only place
        with pytest.raises(Unavailable):
            other.start_export(NEW_PATIENT.id)
        assert coffre.runner.source.last_id() == before
    finally:
        gate.set()
    assert patient.wait_export(PATIENT.id, first["job_id"], poll=0.05)["state"] == "done"
    other.export(NEW_PATIENT.id, tmp_path / "export.zip", poll=0.05)  # the place came back
    assert zipfile.is_zipfile(tmp_path / "export.zip")
