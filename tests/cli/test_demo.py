"""``coffre demo`` end to end against a real uvicorn server, and its idempotence."""

from __future__ import annotations

import re
from datetime import timedelta

from client.sdk import CoffreClient
from coffre.cli_admin import token_authority
from coffre.demo import DEFAULT_PATIENT_NUMBER, _actors
from domain.values import patient_id_from_number
from tests.cli.conftest import Invoke, Server
from vault.settings import Settings


def test_the_demo_tells_the_whole_story(coffre_cli: Invoke, server: Server) -> None:
    result = coffre_cli("demo", "--url", server.url)
    assert result.exit_code == 0, result.output
    out = result.stdout

    # The narrated reads went as the grants say.
    assert "Dr Alice Martin reads the hospital report: decrypted" in out
    assert "Dr Bruno Lefèvre reads the lab result: decrypted" in out
    assert "Chloé Bernard reads the lab result (no grant): refused" in out
    assert "Dr Alice Martin reads the hospital report again: refused" in out
    assert "UNEXPECTED" not in out and "MISMATCH" not in out
    # Every reader's device was approved by a step a token alone cannot take; a key
    # added with the patient's token alone stayed pending and got nothing.
    assert "Camille Dupont: device" in out and "approved" in out
    assert "reads the lab result: refused (device_not_approved)" in out

    # The patient's access log shows the reads, the refusals and the revocation.
    log = out[out.index("Access log") :]
    assert re.search(r"read «Compte rendu\s+d'hospitalisation».*allowed", log, re.S)
    assert log.count("REFUSED: not authorised") == 2
    assert log.count("REFUSED: device not approved") == 1
    assert "revoked the device «unknown laptop»" in log
    assert "asked to add the device «unknown laptop»" in log
    assert "revoked access of Dr Alice Martin" in log
    assert "2 read(s), 3 refused read(s), 1 revocation(s)" in out

    # The demo keeps its device keys under the data directory, owner-only.
    keys = sorted((server.data_dir / "demo").glob("*.key"))
    assert [k.name for k in keys] == [
        f"{n}.key" for n in ("alice", "bruno", "chloe", "enrolment", "hospital", "patient")
    ]
    assert all(k.stat().st_mode & 0o077 == 0 for k in keys)


def test_the_demo_can_run_again(coffre_cli: Invoke, server: Server) -> None:
    first = coffre_cli("demo", "--url", server.url)
    again = coffre_cli("demo", "--url", server.url)
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert "UNEXPECTED" not in first.stdout + again.stdout
    assert "Dr Alice Martin reads the hospital report again: refused" in again.stdout
    assert "the space exists already" in again.stdout
    # Only this run's entries are shown and counted; the devices were approved already.
    assert "2 read(s), 3 refused read(s), 1 revocation(s)" in again.stdout


def test_nothing_secret_reaches_the_server_log(coffre_cli: Invoke, server: Server) -> None:
    coffre_cli("demo", "--url", server.url)
    text = server.log.read_text()
    # uvicorn's access log is off: it would print raw paths, tickets and patient ids
    # included. Bearer tokens (JWTs) and content tickets are both base64url JSON: "eyJ..."
    assert "eyJ" not in text and "Bearer" not in text
    assert patient_id_from_number(DEFAULT_PATIENT_NUMBER) not in text


def test_without_a_server_the_demo_says_so(coffre_cli: Invoke) -> None:
    result = coffre_cli("demo", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach Coffre" in result.stderr and "coffre serve" in result.stderr


def _as(server: Server, role: str) -> CoffreClient:
    """An SDK client for one of the demo's cast, with the server's issuer key."""
    actors = _actors(patient_id_from_number(DEFAULT_PATIENT_NUMBER))
    tokens = token_authority(Settings(data_dir=server.data_dir))
    return CoffreClient(server.url, tokens.mint(actors[role], timedelta(minutes=10)))


def test_a_grant_made_before_the_demo_is_the_one_its_revocation_ends(
    coffre_cli: Invoke, server: Server
) -> None:
    """Issue 9, item 11: grants used to stack, so the demo's revocation left the doctor
    reading through an earlier grant (and the demo printed UNEXPECTED, exiting 0)."""
    coffre_cli("demo", "--url", server.url)  # the space exists and is open
    patient_id = patient_id_from_number(DEFAULT_PATIENT_NUMBER)
    alice = _actors(patient_id)["alice"]
    with _as(server, "patient") as patient:
        patient.grant(patient_id, {"id": alice.id, "name": alice.name, "profession": "doctor"})
    again = coffre_cli("demo", "--url", server.url)
    assert again.exit_code == 0, again.output
    assert "UNEXPECTED" not in again.stdout
    assert "Dr Alice Martin reads the hospital report again: refused" in again.stdout


def test_the_demo_exits_non_zero_when_a_check_fails(coffre_cli: Invoke, server: Server) -> None:
    coffre_cli("demo", "--url", server.url)  # the space exists and is open
    patient_id = patient_id_from_number(DEFAULT_PATIENT_NUMBER)
    bruno = _actors(patient_id)["bruno"]
    with _as(server, "patient") as patient:
        # Blocked, Bruno's read of the lab result is refused: not what the demo expects.
        patient.block(patient_id, {"id": bruno.id, "name": bruno.name, "profession": "doctor"})
        try:
            result = coffre_cli("demo", "--url", server.url)
        finally:
            patient.unblock(patient_id, bruno.id)
    assert result.exit_code == 1, result.output
    assert "✗ UNEXPECTED Dr Bruno Lefèvre reads the lab result: refused" in result.stdout
    assert "1 check(s) of the demo went otherwise than expected" in result.stderr
