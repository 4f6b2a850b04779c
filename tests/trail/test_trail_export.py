"""Regulator exports on both backends: JSON Lines and FHIR, verified offline."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle

from client.trail_verify import (
    TrailVerificationError,
    load_checkpoint,
    parse_public_key,
    verify_export,
    verify_fhir,
    verify_file,
)
from coffre.bootstrap import Coffre
from keys.checkpoint import CheckpointSigner
from projections import trail_store
from projections.runner import ProjectionRunner
from projections.trail_fhir import INS, RPPS, classify, outcome
from projections.trail_query import Trail, TrailQuery
from tests.scenarios.conftest import Cast
from tests.trail.scenario import live_history
from vault.clock import ManualClock
from wire.errors import InvalidInput
from wire.merkle import verify_consistency, verify_inclusion


def export(trail: Trail, query: TrailQuery, **options: Any) -> list[str]:
    out = io.StringIO()
    trail.export_jsonl(query, out, **options)
    return out.getvalue().splitlines()


def entries(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(json.loads(line)["entry"]) for line in lines[1:-1]]


@pytest.fixture
def projected(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner
) -> Cast:
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    return cast


def test_patient_professional_and_window_exports_verify(
    projected: Cast, trail: Trail, signer: CheckpointSigner, clock: ManualClock
) -> None:
    cast, key = projected, signer.public_key
    # One patient: every event of their space, from its provisioning on.
    everything = entries(export(trail, TrailQuery()))
    lines = export(trail, TrailQuery(patient_id=cast.patient.actor.id))
    report = verify_export(lines, key)
    got = entries(lines)
    space_id = got[0]["originator_id"]
    assert got == [e for e in everything if e["space_id"] == space_id]
    assert report.entries == len(got) and report.key_checked and report.kind == "space"
    assert got[0]["event"] == "Space.Provisioned"
    # One professional: their device's request (its approval is the enrolment service's
    # act), read and refused read.
    lines = export(trail, TrailQuery(actor_id=cast.doctor.actor.id))
    assert [e["event"] for e in entries(lines)] == [
        "Reader.Created",
        "Reader.DeviceRequested",
        "Access.Read",
        "Access.Refused",
    ]
    verify_export(lines, key)
    # A time window: a gap-free slice of the log, from the grant to the first refusal.
    start = clock.now() - timedelta(minutes=5)  # live_history spans five minutes
    window = TrailQuery(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3))
    lines = export(trail, window)
    assert [e["event"] for e in entries(lines)] == ["Space.Granted", "Access.Read"]
    assert verify_export(lines, key).kind == "log"
    # The whole log, written to a file and verified from the path.
    assert verify_export(export(trail, TrailQuery()), key).entries == trail.size()


def test_a_regulator_checks_consistency_with_the_checkpoint_they_hold(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner,
    trail: Trail, signer: CheckpointSigner, tmp_path: Path,
) -> None:  # fmt: skip
    # The regulator received an export (and so a checkpoint) yesterday...
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    first = tmp_path / "monday.jsonl"
    with first.open("w") as out:
        trail.export_jsonl(TrailQuery(), out)
    held = load_checkpoint(first)
    # ...the trail grew since; today's export proves it only grew.
    clock.advance(timedelta(days=1))
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    second = tmp_path / "tuesday.jsonl"
    with second.open("w") as out:
        summary = trail.export_jsonl(TrailQuery(patient_id=cast.patient.actor.id), out,
                                     from_size=held["size"])  # fmt: skip
    assert summary.checkpoint.size > held["size"]
    report = verify_file(second, signer.public_key, held)
    assert report.consistency_from == held["size"]
    # Without the proof the held checkpoint cannot be connected: that fails, clearly.
    third = export(trail, TrailQuery())
    with pytest.raises(TrailVerificationError) as info:
        verify_export(third, signer.public_key, held)
    assert info.value.check == "consistency" and info.value.line == 1


def test_checkpoints_are_signed_on_demand_and_when_due(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner,
    trail: Trail, signer: CheckpointSigner,
) -> None:  # fmt: skip
    assert trail.latest_checkpoint() is None
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    checkpoint = trail.checkpoint()
    assert checkpoint.size == trail.size() and checkpoint.key_id == signer.key_id
    assert checkpoint.root == trail.root(checkpoint.size)
    # One signed statement per size: asking again returns the same checkpoint.
    clock.advance(timedelta(minutes=5))
    assert trail.checkpoint() == checkpoint == trail.latest_checkpoint()
    # Periodic: nothing new, or not due yet, signs nothing.
    assert trail.checkpoint_if_due(timedelta(minutes=1)) is None
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    assert trail.checkpoint_if_due(timedelta(hours=1)) is None
    clock.advance(timedelta(hours=1))
    due = trail.checkpoint_if_due(timedelta(hours=1))
    assert due is not None and due.size == trail.size()
    assert [c.size for c in trail.checkpoints()] == [checkpoint.size, due.size]
    assert trail.audit_checkpoints() == 2


def test_queries_are_validated(trail: Trail) -> None:
    with pytest.raises(InvalidInput):
        TrailQuery(patient_id="not an INS")
    with pytest.raises(InvalidInput):
        TrailQuery(patient_id="287067512345638", actor_id="10000000017")
    with pytest.raises(InvalidInput):
        trail.inclusion_proof(0, 10**6)


def test_fhir_bundle_validates_as_r4_and_verifies(
    projected: Cast, trail: Trail, signer: CheckpointSigner, tmp_path: Path
) -> None:
    cast = projected
    bundle = trail.export_fhir(TrailQuery(patient_id=cast.patient.actor.id))
    # fhir.resources' R4B models: AuditEvent, Bundle, Binary, Provenance are as in R4.
    Bundle.model_validate(bundle)
    events = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AuditEvent"
    ]
    for event in events:
        AuditEvent.model_validate(event)
    reads = [e for e in events if e["type"]["code"] == "110110"]
    assert [e["outcome"] for e in reads] == ["0", "8", "0", "8"]
    assert all(e["subtype"][0]["code"] == "read" and e["action"] == "R" for e in reads)
    doctor_read = reads[0]
    assert doctor_read["agent"][0]["who"]["identifier"] == {
        "system": RPPS,
        "value": cast.doctor.actor.id,
    }
    entity = doctor_read["entity"][0]["what"]["identifier"]
    assert entity == {"system": INS, "value": cast.patient.actor.id}
    # The bundle carries the signed export: verifiable offline, from a file too.
    assert verify_fhir(bundle, signer.public_key).entries == len(events)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, indent=2))
    assert verify_file(path, signer.public_key).entries == len(events)
    assert load_checkpoint(path)["size"] == trail.size()
    # An AuditEvent that no entry backs is caught.
    doctor_read["extension"][0]["extension"][1]["valueString"] = "00" * 32
    with pytest.raises(TrailVerificationError) as info:
        verify_fhir(bundle, signer.public_key)
    assert info.value.check == "fhir"


def test_emergency_access_is_a_security_alert() -> None:
    emergency = {"event": "Access.Read", "details": {"mode": "emergency"}, "leaf_index": 0}
    kind, subtype, action = classify(emergency)
    assert (kind["code"], subtype[0]["code"], action) == ("110113", "110127", "R")
    assert classify({"event": "Space.EmergencyAccessInvoked", "details": {}})[0]["code"] == "110113"
    refused = {"event": "Access.Refused", "details": {"rule": "document_deleted"}}
    assert outcome(refused) == "4"
    # an emergency access the patient forbade: a refusal a regulator must look at
    forbidden = {"event": "Space.EmergencyAccessRefused", "details": {"justification": "coma"}}
    assert classify(forbidden)[0]["code"] == "110113" and outcome(forbidden) == "8"


def test_public_keys_parse_from_base64_or_hex(signer: CheckpointSigner) -> None:
    import base64

    assert parse_public_key(base64.b64encode(signer.public_key).decode()) == signer.public_key
    assert parse_public_key(signer.public_key.hex()) == signer.public_key
    with pytest.raises(InvalidInput):
        parse_public_key("abc")


def test_the_verifier_needs_no_database_and_no_network() -> None:
    code = (
        "import sys, client.trail_verify; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('eventsourcing', 'psycopg', 'sqlite3', 'minio', 'httpx', 'socket', 'projections', "
        "'fastapi', 'yoyo')]; print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nodes_come_in_one_query_per_batch_and_absent_ones_are_left_out(
    coffre: Coffre, projected: Cast, trail: Trail, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = trail.size()
    # every stored node of the tree, plus ids that were never stored
    stored = {(level, idx) for level in range(size.bit_length()) for idx in range(size >> level)}
    absent = [(0, size + n) for n in range(5)] + [(40, 0)]
    monkeypatch.setattr(trail_store, "NODE_BATCH", 3)  # force several statements
    with coffre.views.transaction() as cursor:
        found = trail_store.fetch_nodes(cursor, [*stored, *absent, *stored])
    assert set(found) == stored
    with coffre.views.transaction() as cursor:
        for (level, idx), h in found.items():
            rows = cursor.fetch(
                "SELECT hash FROM trail_nodes WHERE level = %(l)s AND idx = %(i)s",
                {"l": level, "i": idx},
            )
            assert bytes(rows[0]["hash"]) == h
    # proofs and roots read their nodes this way: they still verify against the root
    top = trail.root(size)
    for index in range(size):
        proof = trail.inclusion_proof(index, size)
        leaf = bytes(trail.store.query(
            "SELECT leaf_hash FROM trail_entries WHERE leaf_index = %(i)s", {"i": index}
        )[0]["leaf_hash"])  # fmt: skip
        verify_inclusion(leaf, index, size, proof, top)
    for old in range(size + 1):
        verify_consistency(old, size, trail.root(old), top, trail.consistency_proof(old, size))
