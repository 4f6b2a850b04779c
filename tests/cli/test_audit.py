"""``coffre audit``: a regulator exports a trail through the live server, then verifies
it offline; a tampered file or the wrong key fails, naming what failed."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from client.sdk import CoffreClient
from client.trail_verify import verify_export
from coffre.cli import app
from domain.values import patient_id_from_number
from tests.cli.conftest import Invoke, Server
from wire.checkpoint import Checkpoint
from wire.errors import InvalidInput, Unauthenticated
from wire.merkle import verify_consistency

PATIENT = patient_id_from_number("2660575987654")
OTHER_KEY = base64.b64encode(bytes(range(32))).decode()

# Runs the CLI with the network and SQLite refused: verification must need neither.
OFFLINE = """
import socket, sqlite3, sys

def refused(*args, **kwargs):
    raise AssertionError("audit verify tried to connect")

socket.socket.connect = refused
socket.create_connection = refused
sqlite3.connect = refused
sys.argv = ["coffre", *sys.argv[1:]]
from coffre.cli import main
main()
"""


@pytest.fixture(scope="module")
def regulator(server: Server) -> dict[str, str]:
    """Tokens minted with ``coffre token``, as an operator would: a regulator's (set as
    ``COFFRE_TOKEN``) and a service's (``service``) to provision spaces."""
    env = {"COFFRE_DATA_DIR": str(server.data_dir)}
    run = CliRunner().invoke
    minted = run(app, ["token", "regulator", "cnil.audit", "--name", "CNIL"], env=env)
    assert minted.exit_code == 0, minted.output
    service = run(app, ["token", "service", "chu-audit", "--name", "CHU Audit"], env=env)
    assert service.exit_code == 0, service.output
    return {"COFFRE_TOKEN": minted.stdout.strip(), "service": service.stdout.strip()}


@pytest.fixture
def exported(coffre_cli: Invoke, regulator: dict[str, str], tmp_path: Path) -> Path:
    """A patient's space provisioned (if not yet), then their trail exported to a file."""
    coffre_cli("provision", PATIENT, env={"COFFRE_TOKEN": regulator["service"]})
    target = tmp_path / "trail.jsonl"
    result = coffre_cli(
        "audit", "export", "--patient", PATIENT, "--out", str(target), env=regulator
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(target)
    assert target.stat().st_size > 0
    return target


@pytest.fixture
def key_file(coffre_cli: Invoke, tmp_path: Path) -> Path:
    """The trail's public key as ``coffre audit public-key`` prints it (no token)."""
    result = coffre_cli("audit", "public-key")
    assert result.exit_code == 0, result.output
    assert len(base64.b64decode(result.stdout.strip())) == 32
    assert "key id" in result.stderr
    path = tmp_path / "trail.pub"
    path.write_text(result.stdout)
    return path


def test_an_export_verifies_with_the_published_key(
    coffre_cli: Invoke, exported: Path, key_file: Path
) -> None:
    result = coffre_cli("audit", "verify", str(exported), "--public-key", f"@{key_file}")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ") and "(space export)" in result.stdout
    assert "WARNING" not in result.output
    # the key inline works the same
    inline = coffre_cli("audit", "verify", str(exported), "--public-key", key_file.read_text())
    assert inline.exit_code == 0, inline.output


def test_without_a_key_it_says_loudly_that_only_self_consistency_was_checked(
    coffre_cli: Invoke, exported: Path
) -> None:
    result = coffre_cli("audit", "verify", str(exported))
    assert result.exit_code == 0, result.output
    assert "WARNING: no public key given: only self-consistency was checked" in result.stderr
    assert result.stdout.startswith("OK: ")


def test_one_tampered_byte_fails_naming_the_line_and_leaf(
    coffre_cli: Invoke, exported: Path, key_file: Path
) -> None:
    lines = exported.read_bytes().split(b"\n")
    leaf = json.loads(lines[2])["leaf_index"]
    edited = lines[2].replace(b'\\"at\\":\\"2', b'\\"at\\":\\"3', 1)  # the year of entry 2
    assert len(edited) == len(lines[2]) and edited != lines[2]
    lines[2] = edited
    exported.write_bytes(b"\n".join(lines))
    result = coffre_cli("audit", "verify", str(exported), "--public-key", f"@{key_file}")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: verification FAILED: line 3 (leaf {leaf}): ")
    assert result.stderr.count("\n") == 1  # one line


def test_another_key_fails(coffre_cli: Invoke, exported: Path) -> None:
    result = coffre_cli("audit", "verify", str(exported), "--public-key", OTHER_KEY)
    assert result.exit_code == 1, result.output
    assert "verification FAILED: line 1: public-key:" in result.stderr


def test_verify_runs_offline_without_any_configuration(
    exported: Path, key_file: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    env["HOME"] = str(workdir)
    args = ["audit", "verify", str(exported), "--public-key", f"@{key_file}"]
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")
    assert list(workdir.iterdir()) == []  # no data directory, no key, nothing written


def test_checkpoints_consistency_and_an_export_from_a_held_checkpoint(
    coffre_cli: Invoke,
    regulator: dict[str, str],
    exported: Path,
    key_file: Path,
    tmp_path: Path,
) -> None:
    signed = coffre_cli("audit", "checkpoint", "--sign", env=regulator)
    assert signed.exit_code == 0, signed.output
    held = tmp_path / "held.json"
    held.write_text(signed.stdout)
    old = Checkpoint.from_json(json.loads(signed.stdout))
    # the trail grows (another space), then a newer checkpoint
    other = patient_id_from_number("1660575987655")
    coffre_cli("provision", other, env={"COFFRE_TOKEN": regulator["service"]})
    newer = coffre_cli("audit", "checkpoint", "--sign", env=regulator)
    new = Checkpoint.from_json(json.loads(newer.stdout))
    assert new.size > old.size
    latest = coffre_cli("audit", "checkpoint", env=regulator)
    assert Checkpoint.from_json(json.loads(latest.stdout)).size >= new.size

    proof = coffre_cli("audit", "consistency", str(old.size), str(new.size), env=regulator)
    assert proof.exit_code == 0, proof.output
    nodes = [bytes.fromhex(h) for h in json.loads(proof.stdout)["proof"]]
    verify_consistency(old.size, new.size, old.root, new.root, nodes)

    target = tmp_path / "since-held.jsonl"
    result = coffre_cli(
        "audit",
        "export",
        "--patient",
        PATIENT,
        "--from-size",
        str(old.size),
        "--out",
        str(target),
        env=regulator,
    )
    assert result.exit_code == 0, result.output
    verified = coffre_cli(
        "audit", "verify", str(target), "--public-key", f"@{key_file}", "--previous", str(held)
    )
    assert verified.exit_code == 0, verified.output
    assert f"consistent with the previous checkpoint of size {old.size}" in verified.stdout


def test_a_fhir_export_verifies_too(
    coffre_cli: Invoke,
    regulator: dict[str, str],
    exported: Path,
    key_file: Path,
    tmp_path: Path,
) -> None:
    target = tmp_path / "trail.fhir.json"
    result = coffre_cli(
        "audit",
        "export",
        "--patient",
        PATIENT,
        "--format",
        "fhir",
        "--out",
        str(target),
        env=regulator,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["resourceType"] == "Bundle"
    verified = coffre_cli("audit", "verify", str(target), "--public-key", f"@{key_file}")
    assert verified.exit_code == 0, verified.output
    # Issue 9, item 6: an AuditEvent edited (its outcome, its agent) fails, naming its leaf.
    bundle = json.loads(target.read_text())
    event = bundle["entry"][-1]["resource"]
    for edit in ("outcome", "agent"):
        tampered = json.loads(target.read_text())
        changed = tampered["entry"][-1]["resource"]
        if edit == "outcome":
            changed["outcome"] = "8" if changed["outcome"] == "0" else "0"
        else:
            changed["agent"][0]["who"]["display"] = "Someone Else"
        path = tmp_path / f"tampered-{edit}.json"
        path.write_text(json.dumps(tampered, indent=2))
        failed = coffre_cli("audit", "verify", str(path), "--public-key", f"@{key_file}")
        assert failed.exit_code == 1, failed.output
        assert f"AuditEvent of leaf {event['id'].removeprefix('leaf-')}" in failed.output
        assert "Traceback" not in failed.output


def test_export_refusals_are_one_line(
    coffre_cli: Invoke, regulator: dict[str, str], exported: Path, tmp_path: Path
) -> None:
    target = tmp_path / "nope.jsonl"
    service = {"COFFRE_TOKEN": regulator["service"]}
    refused = coffre_cli("audit", "export", "--patient", PATIENT, "--out", str(target), env=service)
    assert refused.exit_code == 1 and not target.exists()
    assert refused.stderr.strip() == "error: this operation is for: regulator"
    both = coffre_cli(
        "audit",
        "export",
        "--patient",
        PATIENT,
        "--actor",
        "x",
        "--out",
        str(target),
        env=regulator,
    )
    assert both.exit_code == 1 and "not both" in both.stderr
    exists = coffre_cli("audit", "export", "--out", str(exported), env=regulator)
    assert exists.exit_code == 1 and "--force" in exists.stderr
    bad = coffre_cli("audit", "export", "--patient", "123", "--out", str(target), env=regulator)
    assert bad.exit_code == 1 and not target.exists()
    assert len(bad.stderr.strip().splitlines()) == 1 and "patient" in bad.stderr
    assert list(tmp_path.glob(".coffre-*")) == []  # no temporary file left behind


def test_the_sdk_streams_an_export_into_a_binary_file(
    server: Server, regulator: dict[str, str], exported: Path
) -> None:
    seen: list[tuple[int, int | None]] = []
    sink = io.BytesIO()
    with CoffreClient(server.url, regulator["COFFRE_TOKEN"]) as coffre:
        key, _ = coffre.trail_public_key()
        written = coffre.trail_export(sink, patient_id=PATIENT, progress=lambda *p: seen.append(p))
        with pytest.raises(InvalidInput):
            coffre.trail_consistency(2, 1)  # refused before any request
        with pytest.raises(InvalidInput):
            coffre.trail_export(sink, since=datetime(2026, 1, 1))  # naive: ambiguous
    assert written == len(sink.getvalue()) and seen[0] == (0, None) and seen[-1][0] == written
    lines = sink.getvalue().decode("utf-8").splitlines()
    assert verify_export(lines, key).entries == len(lines) - 2
    with CoffreClient(server.url, "") as anonymous:  # the key needs no token
        assert anonymous.trail_public_key()[0] == key
        with pytest.raises(Unauthenticated):
            anonymous.trail_checkpoint()
