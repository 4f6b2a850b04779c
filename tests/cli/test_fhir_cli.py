"""``coffre fhir`` against a real server: provide (ITI-65) records a document,
``documents`` lists it, ``document`` reads its DocumentReference, ``retrieve`` decrypts it,
``consents`` and ``audit-events`` answer FHIR JSON."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number
from tests.cli.conftest import Invoke, Server
from tests.devices import ENROLMENT
from vault.settings import Settings
from wire.values import Role

PATIENT = Actor(Role.PATIENT, patient_id_from_number("1940344567891"), "Léa Garnier")
LAB = Actor(Role.SERVICE, "labo-est", "Laboratoire de l'Est")


def test_fhir_commands(coffre_cli: Invoke, server: Server, tmp_path: Path) -> None:
    tokens = token_authority(Settings(data_dir=server.data_dir))
    lab = {"COFFRE_TOKEN": tokens.mint(LAB)}
    patient = {"COFFRE_TOKEN": tokens.mint(PATIENT)}
    assert coffre_cli("provision", PATIENT.id, env=lab).exit_code == 0
    report = tmp_path / "bilan.pdf"
    report.write_bytes(b"%PDF-1.7 ferritine 80 ng/mL")
    args = (
        "fhir", "provide", PATIENT.id, str(report), "--source-system", "urn:oid:1.2.3",
        "--source-value", "B-1", "--type-code", "11502-2", "--title", "Ferritine",
        "--date", "2026-10-30",
    )  # fmt: skip
    first = coffre_cli(*args, env=lab)
    assert first.exit_code == 0, first.stderr
    listed = coffre_cli("fhir", "documents", PATIENT.id, env=patient)
    assert listed.exit_code == 0, listed.stderr
    references = json.loads(listed.stdout)
    assert [reference["id"] for reference in references] == [first.stdout.strip()]
    document_id = first.stdout.strip()
    read = coffre_cli("fhir", "document", PATIENT.id, document_id, env=patient)
    assert read.exit_code == 0, read.stderr
    assert json.loads(read.stdout) == references[0]
    unknown = coffre_cli("fhir", "document", PATIENT.id, str(uuid.UUID(int=1)), env=patient)
    assert unknown.exit_code == 1 and unknown.stderr == "error: no such document in this space\n"
    # the retrieval finds the attachment through the read: a device first, then a read
    reader = {**patient, "COFFRE_READER_KEY": str(tmp_path / "k" / "r.key")}
    enrolment = {"COFFRE_TOKEN": tokens.mint(ENROLMENT)}
    code = tmp_path / "code"
    assert (
        coffre_cli("devices", "code", PATIENT.id, "--code-out", str(code), env=enrolment).exit_code
        == 0
    )
    enrol = ("devices", "enrol", "--name", "phone", "--code", code.read_text().strip())
    assert coffre_cli(*enrol, env=reader).exit_code == 0
    copy = tmp_path / "copie.pdf"
    retrieved = coffre_cli("fhir", "retrieve", PATIENT.id, document_id, str(copy), env=reader)
    assert retrieved.exit_code == 0, retrieved.stderr
    assert copy.read_bytes() == report.read_bytes()
    consents = coffre_cli("fhir", "consents", PATIENT.id, env=patient)
    assert consents.exit_code == 0 and json.loads(consents.stdout)[0]["resourceType"] == "Consent"
    events = coffre_cli("fhir", "audit-events", PATIENT.id, env=patient)
    assert events.exit_code == 0, events.stderr
    assert {event["resourceType"] for event in json.loads(events.stdout)} == {"AuditEvent"}
