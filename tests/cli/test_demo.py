"""``coffre demo`` end to end against a real uvicorn server, and its idempotence."""

from __future__ import annotations

import re

from coffre.demo import DEFAULT_PATIENT_NUMBER
from domain.values import patient_id_from_number
from tests.cli.conftest import Invoke, Server


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

    # The patient's access log shows the reads, the refusals and the revocation.
    log = out[out.index("Access log") :]
    assert re.search(r"read «Compte rendu\s+d'hospitalisation».*allowed", log, re.S)
    assert log.count("REFUSED: not authorised") == 2
    assert "revoked access of Dr Alice Martin" in log
    assert "2 read(s), 2 refused read(s), 1 revocation(s)" in out

    # The demo keeps its reader keys under the data directory, owner-only.
    keys = sorted((server.data_dir / "demo").glob("*.key"))
    assert [k.name for k in keys] == [
        f"{n}.key" for n in ("alice", "bruno", "chloe", "hospital", "patient")
    ]
    assert all(k.stat().st_mode & 0o077 == 0 for k in keys)


def test_the_demo_can_run_again(coffre_cli: Invoke, server: Server) -> None:
    coffre_cli("demo", "--url", server.url)
    again = coffre_cli("demo", "--url", server.url)
    assert again.exit_code == 0, again.output
    assert "the space exists already" in again.stdout
    # Only this run's entries are shown and counted.
    assert "2 read(s), 2 refused read(s), 1 revocation(s)" in again.stdout


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
