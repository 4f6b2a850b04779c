"""``coffre devices`` against a real server: add, approve (code, device, service), list,
revoke, as a patient, a professional and their enrolment service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.cli.conftest import Invoke, Server
from tests.devices import ENROLMENT
from vault.settings import Settings
from wire.values import Profession, Role

PATIENT = Actor(Role.PATIENT, patient_id_from_number("2910344567890"), "Inès Morel")
DOCTOR = Actor(
    Role.PROFESSIONAL, professional_id_from_number("3000000042"), "Dr Yan Roy", Profession.DOCTOR
)


@pytest.fixture
def env(server: Server, tmp_path: Path) -> dict[str, dict[str, str]]:
    """Each actor's environment: a token, and a device key file of their own."""
    authority = token_authority(Settings(data_dir=server.data_dir))
    return {
        "laptop": {
            "COFFRE_TOKEN": authority.mint(PATIENT),
            "COFFRE_READER_KEY": str(tmp_path / "laptop.key"),
        },
        "phone": {
            "COFFRE_TOKEN": authority.mint(PATIENT),
            "COFFRE_READER_KEY": str(tmp_path / "phone.key"),
        },
        "doctor": {
            "COFFRE_TOKEN": authority.mint(DOCTOR),
            "COFFRE_READER_KEY": str(tmp_path / "doctor.key"),
        },
        "enrolment": {"COFFRE_TOKEN": authority.mint(ENROLMENT)},
    }


def test_a_patient_adds_approves_lists_and_revokes_devices(
    coffre_cli: Invoke, env: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    added = coffre_cli("devices", "add", "--name", "laptop", env=env["laptop"])
    assert added.exit_code == 0, added.output
    laptop = added.stdout.strip()
    assert "pending" in added.stderr
    letter = tmp_path / "letter"
    issued = coffre_cli(
        "devices", "code", PATIENT.id, "--code-out", str(letter), env=env["enrolment"]
    )
    assert issued.exit_code == 0, issued.output
    code = letter.read_text().strip()
    approved = coffre_cli(
        "devices", "approve", laptop, env={**env["laptop"], "COFFRE_ENROLMENT_CODE": code}
    )
    assert approved.exit_code == 0 and "approved (code)" in approved.stderr, approved.output

    phone = coffre_cli("devices", "add", "--name", "phone", env=env["phone"]).stdout.strip()
    # The phone is approved from the laptop, whose key signs it.
    signed = coffre_cli("devices", "approve", phone, env=env["laptop"])
    assert signed.exit_code == 0 and "approved (device)" in signed.stderr, signed.output
    table = coffre_cli("devices", "list", env=env["phone"]).stdout
    assert "phone" in table and "laptop" in table and "*" in table
    revoked = coffre_cli("devices", "revoke", phone, env=env["laptop"])
    assert revoked.exit_code == 0, revoked.output
    listed = json.loads(coffre_cli("devices", "list", "--json", env=env["laptop"]).stdout)
    assert {d["name"]: d["status"] for d in listed} == {"laptop": "approved", "phone": "revoked"}
    # A wrong code is refused, in one line.
    third = coffre_cli("devices", "add", "--reader-key", str(tmp_path / "third.key"),
                       env=env["laptop"]).stdout.strip()  # fmt: skip
    wrong = coffre_cli("devices", "approve", third, "--code", "AAAAA-AAAAA", env=env["laptop"])
    assert wrong.exit_code == 1 and "error:" in wrong.stderr


def test_an_enrolment_service_approves_a_doctors_device(
    coffre_cli: Invoke, env: dict[str, dict[str, str]]
) -> None:
    key_id = coffre_cli("devices", "add", "--name", "cabinet", env=env["doctor"]).stdout.strip()
    refused = coffre_cli("devices", "approve-member", "professional", DOCTOR.id, key_id,
                         env=env["doctor"])  # fmt: skip
    assert refused.exit_code == 1
    listed = coffre_cli("devices", "members", "professional", DOCTOR.id, "--json",
                        env=env["enrolment"])  # fmt: skip
    assert [d["status"] for d in json.loads(listed.stdout)] == ["pending"]
    approved = coffre_cli("devices", "approve-member", "professional", DOCTOR.id, key_id,
                          env=env["enrolment"])  # fmt: skip
    assert approved.exit_code == 0 and "approved (service)" in approved.stderr, approved.output
