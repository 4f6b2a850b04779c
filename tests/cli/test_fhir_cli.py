"""``coffre fhir`` against a real server: provide (ITI-65) records a document,
``documents`` lists it, ``consents`` and ``audit-events`` answer FHIR JSON."""

from __future__ import annotations

import json
from pathlib import Path

from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number
from tests.cli.conftest import Invoke, Server
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
    consents = coffre_cli("fhir", "consents", PATIENT.id, env=patient)
    assert consents.exit_code == 0 and json.loads(consents.stdout)[0]["resourceType"] == "Consent"
    events = coffre_cli("fhir", "audit-events", PATIENT.id, env=patient)
    assert events.exit_code == 0, events.stderr
    assert {event["resourceType"] for event in json.loads(events.stdout)} == {"AuditEvent"}
