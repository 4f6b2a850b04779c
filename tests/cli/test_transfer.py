"""Client commands over real HTTP: devices, provision, deposit, read, grants.

Unlike the SDK tests (in-process transport, buffered), these go through uvicorn, so
the deposit really is a chunked request body and the read a streamed response.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.cli.conftest import Invoke, Server
from tests.devices import ENROLMENT
from vault.settings import Settings
from wire.values import Role

PATIENT = Actor(Role.PATIENT, patient_id_from_number("1920344567890"), "Léa Fontaine")
GRANTOR = Actor(Role.PATIENT, patient_id_from_number("2920344567890"), "Zoé Fontaine")
CLINIC = Actor(Role.SERVICE, "clinique-sud", "Clinique du Sud")
RPPS = professional_id_from_number("3000000001")


@pytest.fixture
def tokens(server: Server) -> dict[str, str]:
    authority = token_authority(Settings(data_dir=server.data_dir))
    return {
        "patient": authority.mint(PATIENT),
        "grantor": authority.mint(GRANTOR),
        "clinic": authority.mint(CLINIC),
        "enrolment": authority.mint(ENROLMENT),
    }


def test_deposit_then_read_a_multi_mebibyte_file(
    coffre_cli: Invoke, tokens: dict[str, str], tmp_path: Path
) -> None:
    clinic = {"COFFRE_TOKEN": tokens["clinic"]}
    enrolment = {"COFFRE_TOKEN": tokens["enrolment"]}
    patient = {
        "COFFRE_TOKEN": tokens["patient"],
        "COFFRE_READER_KEY": str(tmp_path / "k" / "r.key"),
    }
    assert coffre_cli("provision", PATIENT.id, env=clinic).exit_code == 0
    again = coffre_cli("provision", PATIENT.id, env=clinic)
    assert again.exit_code == 1 and again.stderr == "error: a space exists for this patient\n"

    source = tmp_path / "scan.bin"
    source.write_bytes(os.urandom(5 * 1024 * 1024 + 3))
    uploaded = coffre_cli(
        "deposit",
        PATIENT.id,
        str(source),
        "--type",
        "imaging_report",
        "--title",
        "IRM",
        "--date",
        "2026-03-04",
        env=clinic,
    )
    assert uploaded.exit_code == 0, uploaded.output
    document_id = uploaded.stdout.strip()

    # Her device: a code from the enrolment service (for her letter), then `enrol`.
    letter = tmp_path / "enrolment-code"
    issued = coffre_cli("devices", "code", PATIENT.id, "--code-out", str(letter), env=enrolment)
    assert issued.exit_code == 0, issued.output
    assert letter.read_text().strip() not in issued.output  # the code is never printed
    enrolled = coffre_cli(
        "devices", "enrol", "--name", "my laptop", "--code", letter.read_text().strip(), env=patient
    )
    assert enrolled.exit_code == 0, enrolled.output
    assert "approved (code)" in enrolled.stderr
    assert (tmp_path / "k" / "r.key").stat().st_mode & 0o777 == 0o600
    listed = coffre_cli("devices", "list", "--json", env=patient)
    (device,) = json.loads(listed.stdout)
    assert (device["key_id"], device["name"]) == (enrolled.stdout.strip(), "my laptop")

    target = tmp_path / "copy.bin"
    downloaded = coffre_cli("read", PATIENT.id, document_id, str(target), env=patient)
    assert downloaded.exit_code == 0, downloaded.output
    assert target.read_bytes() == source.read_bytes()

    # An existing file is not replaced unless asked (through the old verb, a hidden alias).
    again = coffre_cli("download", PATIENT.id, document_id, str(target), env=patient)
    assert again.exit_code == 1 and "--force" in again.stderr

    listed = coffre_cli("documents", PATIENT.id, env=patient)
    assert "IRM" in listed.stdout and document_id in listed.stdout.replace("\n", "")


def test_grant_list_and_revoke(coffre_cli: Invoke, tokens: dict[str, str]) -> None:
    clinic, patient = {"COFFRE_TOKEN": tokens["clinic"]}, {"COFFRE_TOKEN": tokens["grantor"]}
    assert coffre_cli("provision", GRANTOR.id, env=clinic).exit_code == 0

    granted = coffre_cli(
        "grant",
        GRANTOR.id,
        "--to",
        RPPS,
        "--name",
        "Dr Hugo Blanc",
        "--profession",
        "doctor",
        "--types",
        "lab_result,imaging_report",
        "--expires",
        "2099-01-01T00:00:00+00:00",
        env=patient,
    )
    assert granted.exit_code == 0, granted.output
    grant_id = granted.stdout.strip()
    assert "Dr Hugo Blanc" in coffre_cli("grants", GRANTOR.id, env=patient).stdout
    listed = json.loads(coffre_cli("grants", GRANTOR.id, "--json", env=patient).stdout)
    assert [g["grant_id"] for g in listed] == [grant_id]

    assert coffre_cli("revoke", GRANTOR.id, grant_id, env=patient).exit_code == 0
    assert "revoked" in coffre_cli("grants", GRANTOR.id, env=patient).stdout

    both = coffre_cli(
        "grant",
        GRANTOR.id,
        "--to",
        RPPS,
        "--name",
        "X",
        "--profession",
        "doctor",
        "--types",
        "lab_result",
        "--documents",
        grant_id,
        env=patient,
    )
    assert both.exit_code == 1 and "not both" in both.stderr
