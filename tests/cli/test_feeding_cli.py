"""``coffre deposit --source-id SYSTEM|VALUE`` against a real server: the identifier is
sent, a deposit from scratch under a used identifier names the document, and naming
that document deposits a new version of it."""

from __future__ import annotations

from pathlib import Path

from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number
from tests.cli.conftest import Invoke, Server
from vault.settings import Settings
from wire.values import Role

PATIENT = Actor(Role.PATIENT, patient_id_from_number("1930344567890"), "Noé Garnier")
LAB = Actor(Role.SERVICE, "labo-ouest", "Laboratoire de l'Ouest")
SOURCE = "urn:oid:1.2.250.1.213.1.1.9|CR-2026-000123"


def test_deposit_with_a_source_identifier(
    coffre_cli: Invoke, server: Server, tmp_path: Path
) -> None:
    lab = {"COFFRE_TOKEN": token_authority(Settings(data_dir=server.data_dir)).mint(LAB)}
    assert coffre_cli("provision", PATIENT.id, env=lab).exit_code == 0
    report = tmp_path / "bilan.pdf"
    report.write_bytes(b"%PDF-1.7 hemoglobine 13.5 g/dL")

    def deposit(*options: str) -> tuple[int, str, str]:
        args = ("deposit", PATIENT.id, str(report), "--type", "lab_result", "--title", "Bilan")
        result = coffre_cli(*args, *options, env=lab)
        return result.exit_code, result.stdout, result.stderr

    code, out, err = deposit("--source-id", SOURCE)
    assert code == 0, err
    document_id = out.strip()
    # From scratch, the file is encrypted anew: other content under a used identifier.
    code, out, err = deposit("--source-id", SOURCE)
    assert (code, out) == (1, "")
    assert "error: this source identifier names document " + document_id in err
    code, out, err = deposit("--source-id", SOURCE, "--document-id", document_id)
    assert (code, out.strip()) == (0, document_id)
    assert "deposited version 2" in err

    code, _, err = deposit("--source-id", "CR-2026-000123")
    assert code == 1 and "error: --source-id is SYSTEM|VALUE" in err
    code, _, err = deposit("--source-id", "not a uri|CR-1")
    assert code == 1 and "error: source_id.system must be a URI" in err
