"""The regulator's trail over HTTP: who reaches it, and that its exports verify offline.

Also the other side of role separation: a patient reads only their own access log and
a professional reads none.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ALICE, AUDITOR, BRUNO, DOCTOR, NURSE, Caller
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from client.trail_verify import TrailVerificationError, verify_file
from coffre.bootstrap import Coffre, build
from vault.clock import ManualClock
from vault.settings import Settings
from wire.checkpoint import Checkpoint, key_id_of, verify_checkpoint
from wire.merkle import verify_consistency

PROBLEMS = "https://coffre.invalid/problems/"
TRAIL_ROUTES = [
    ("GET", "/v1/trail/checkpoints/latest", {}),
    ("POST", "/v1/trail/checkpoints", {}),
    ("GET", "/v1/trail/consistency", {"old": 0, "new": 0}),
    ("GET", "/v1/trail/export", {"patient_id": ALICE.id}),
]


@pytest.fixture
def clock() -> ManualClock:
    """The vault's clock (tokens keep the wall clock): moved past opposition periods."""
    return ManualClock()


@pytest.fixture
def coffre(tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """An embedded Coffre on a manual clock (overrides the package fixture)."""
    built = build(Settings(data_dir=tmp_path / "data"), clock=clock)
    yield built
    built.close()


@pytest.fixture
def regulator(caller: Any) -> Caller:
    """The CNIL's auditor."""
    return caller(AUDITOR)


@pytest.fixture
def history(
    alice: Caller, hospital: Caller, doctor: Caller, caller: Any, coffre: Coffre, clock: ManualClock
) -> dict[str, Any]:
    """Alice's space opened (as the scenarios' ``cast`` does: let the opposition period
    pass), then a deposit, a grant, a read and a refused read, a minute apart."""
    clock.advance(coffre.settings.periods().opposition + timedelta(seconds=1))
    start = clock.now()
    deposit = hospital.deposit(ALICE.id)
    clock.advance(timedelta(minutes=1))
    grantee = {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}
    body = {"grantee": grantee, "scope": {"kind": "space"}}
    granted = alice.post(f"/v1/spaces/{ALICE.id}/grants", json=body)
    assert granted.status_code == 201, granted.text
    clock.advance(timedelta(minutes=1))
    assert doctor.read(ALICE.id, deposit["document_id"]).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert caller(NURSE).read(ALICE.id, deposit["document_id"]).status_code == 404
    clock.advance(timedelta(minutes=1))
    return {"document_id": deposit["document_id"], "start": start, "end": clock.now()}


def assert_problem(answer: Any, status: int, code: str, field: str | None = None) -> None:
    """The answer is an RFC 9457 problem of this status and type (and field)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == PROBLEMS + code and body["status"] == status
    if field is not None:
        assert body.get("field") == field, body


def call(who: Caller | TestClient, method: str, url: str, params: dict[str, Any]) -> Any:
    """``method url`` as ``who`` (a ``Caller``, or the bare client: no token)."""
    if isinstance(who, Caller):
        verb = who.get if method == "GET" else who.post
        return verb(url, params=params)
    return who.request(method, url, params=params)


def public_key(client: TestClient) -> bytes:
    """The trail key, fetched without any token."""
    answer = client.get("/v1/trail/public-key")
    assert answer.status_code == 200, answer.text
    return base64.b64decode(answer.json()["public_key"])


def export_to(regulator: Caller, path: Path, **query: Any) -> Path:
    """Export through the API into ``path``."""
    answer = regulator.get("/v1/trail/export", params=query)
    assert answer.status_code == 200, answer.text
    path.write_bytes(answer.content)
    return path


def events_of(path: Path) -> list[str]:
    """The event names of a JSON Lines export's entries."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:-1]
    return [json.loads(json.loads(line)["entry"])["event"] for line in lines]


# -- role separation -----------------------------------------------------------------


def test_only_the_regulator_reaches_the_trail(
    history: dict[str, Any],
    alice: Caller,
    doctor: Caller,
    hospital: Caller,
    regulator: Caller,
    client: TestClient,
) -> None:
    for method, url, params in TRAIL_ROUTES:
        for intruder in (alice, doctor, hospital):
            assert_problem(call(intruder, method, url, params), 403, "forbidden")
        anonymous = call(client, method, url, params)
        assert_problem(anonymous, 401, "unauthenticated")
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert call(regulator, method, url, params).status_code in (200, 201)


def test_the_public_key_needs_no_token(client: TestClient, regulator: Caller) -> None:
    answer = client.get("/v1/trail/public-key")
    assert answer.status_code == 200, answer.text
    key = base64.b64decode(answer.json()["public_key"])
    assert len(key) == 32 and answer.json()["key_id"] == key_id_of(key)
    # the key that signs the checkpoints a regulator gets
    checkpoint = Checkpoint.from_json(regulator.post("/v1/trail/checkpoints").json())
    verify_checkpoint(checkpoint, key)


def test_a_patient_cannot_read_another_patients_log(
    history: dict[str, Any], hospital: Caller, caller: Any
) -> None:
    assert hospital.post("/v1/spaces", json={"patient_id": BRUNO.id}).status_code == 201
    bruno = caller(BRUNO)
    assert bruno.get(f"/v1/spaces/{BRUNO.id}/access-log").status_code == 200  # his own
    # Answered as if there were no space: another patient may not learn that it exists.
    assert_problem(bruno.get(f"/v1/spaces/{ALICE.id}/access-log"), 404, "unknown-space")
    assert_problem(
        bruno.get(f"/v1/spaces/{ALICE.id}/access-log", params={"actor_id": DOCTOR.id}),
        404,
        "unknown-space",
    )
    for method, url, params in TRAIL_ROUTES:  # nor through the regulator's trail
        assert_problem(call(bruno, method, url, params), 403, "forbidden")


def test_a_professional_cannot_read_any_log(
    history: dict[str, Any], doctor: Caller, hospital: Caller
) -> None:
    # the doctor holds a grant on Alice's whole space and read a document there
    for patient in (ALICE, BRUNO):
        answer = doctor.get(f"/v1/spaces/{patient.id}/access-log")
        assert_problem(answer, 403, "forbidden")
    # not even about their own actions, through the trail
    answer = doctor.get("/v1/trail/export", params={"actor_id": DOCTOR.id})
    assert_problem(answer, 403, "forbidden")


# -- exports -------------------------------------------------------------------------


def test_a_patients_trail_exported_through_the_api_verifies_offline(
    history: dict[str, Any], regulator: Caller, client: TestClient, tmp_path: Path
) -> None:
    key = public_key(client)
    answer = regulator.get("/v1/trail/export", params={"patient_id": ALICE.id})
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    path = export_to(regulator, tmp_path / "alice.jsonl", patient_id=ALICE.id)
    report = verify_file(path, key)
    assert report.key_checked and report.kind == "space" and not report.notes
    assert report.query["patient_id"] == ALICE.id
    names = events_of(path)
    assert names[0] == "Space.Provisioned" and report.entries == len(names)
    assert {"Access.Read", "Access.Refused"} <= set(names)
    # one byte of the second entry changed (its year): that entry fails, by line and leaf
    lines = path.read_bytes().split(b"\n")
    edited = lines[2].replace(b'\\"at\\":\\"2', b'\\"at\\":\\"3', 1)
    assert len(edited) == len(lines[2]) and edited != lines[2]
    lines[2] = edited
    (tmp_path / "edited.jsonl").write_bytes(b"\n".join(lines))
    with pytest.raises(TrailVerificationError) as failure:
        verify_file(tmp_path / "edited.jsonl", key)
    assert (failure.value.line, failure.value.leaf_index) == (3, json.loads(edited)["leaf_index"])


def test_actor_and_window_exports_verify(
    history: dict[str, Any], regulator: Caller, client: TestClient, tmp_path: Path
) -> None:
    key = public_key(client)
    path = export_to(regulator, tmp_path / "doctor.jsonl", actor_id=DOCTOR.id)
    assert verify_file(path, key).kind == "actor"
    assert "Access.Read" in events_of(path)
    window = {"since": history["start"].isoformat(), "until": history["end"].isoformat()}
    path = export_to(regulator, tmp_path / "window.jsonl", **window)
    report = verify_file(path, key)
    assert report.kind == "log" and report.entries == len(events_of(path)) > 0


def test_a_fhir_export_is_a_bundle_of_audit_events_that_verifies(
    history: dict[str, Any], regulator: Caller, client: TestClient, tmp_path: Path
) -> None:
    answer = regulator.get("/v1/trail/export", params={"patient_id": ALICE.id, "format": "fhir"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(answer.json())
    audit_events = [e for e in bundle.entry or [] if e.resource.get_resource_type() == "AuditEvent"]
    (tmp_path / "alice.fhir.json").write_bytes(answer.content)
    report = verify_file(tmp_path / "alice.fhir.json", public_key(client))
    assert report.entries == len(audit_events) and report.kind == "space"


def test_checkpoints_are_consistent_and_exports_carry_the_proof(
    history: dict[str, Any],
    regulator: Caller,
    hospital: Caller,
    client: TestClient,
    tmp_path: Path,
) -> None:
    key = public_key(client)
    old = regulator.post("/v1/trail/checkpoints")
    assert old.status_code == 201, old.text
    hospital.deposit(ALICE.id, b"compte rendu")
    new = regulator.post("/v1/trail/checkpoints").json()
    assert regulator.get("/v1/trail/checkpoints/latest").json() == new
    first, second = Checkpoint.from_json(old.json()), Checkpoint.from_json(new)
    for checkpoint in (first, second):
        verify_checkpoint(checkpoint, key)
    assert first.size < second.size
    answer = regulator.get(
        "/v1/trail/consistency", params={"old": first.size, "new": second.size}
    ).json()
    proof = [bytes.fromhex(node) for node in answer["proof"]]
    verify_consistency(first.size, second.size, first.root, second.root, proof)
    # an export can carry the proof from a checkpoint the regulator already holds
    (tmp_path / "old.json").write_text(json.dumps(old.json()))
    path = export_to(regulator, tmp_path / "a.jsonl", patient_id=ALICE.id, from_size=first.size)
    report = verify_file(path, key, old.json())
    assert report.consistency_from == first.size
    for bad in ({"old": 2, "new": 1}, {"old": 0, "new": second.size + 100}):
        assert_problem(regulator.get("/v1/trail/consistency", params=bad), 422, "invalid-input")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"patient_id": ALICE.id, "actor_id": DOCTOR.id}, id="patient-and-actor"),
        pytest.param({"patient_id": "123"}, id="malformed-ins"),
        pytest.param({"patient_id": ALICE.id[:-2] + "00"}, id="wrong-ins-key"),
        pytest.param(
            {"since": "2026-11-02T10:00:00Z", "until": "2026-11-02T10:00:00Z"}, id="since-eq-until"
        ),
        pytest.param(
            {"since": "2026-11-02T11:00:00Z", "until": "2026-11-02T10:00:00Z"}, id="since-after"
        ),
        pytest.param({"since": "2026-11-02T10:00:00"}, id="naive-since"),
        pytest.param({"format": "xml"}, id="unknown-format"),
        pytest.param({"from_size": -1}, id="negative-from-size"),
        pytest.param({"patient": ALICE.id}, id="unknown-parameter"),
    ],
)
def test_invalid_export_queries_are_422_problems(
    history: dict[str, Any], regulator: Caller, query: dict[str, Any]
) -> None:
    answer = regulator.get("/v1/trail/export", params=query)
    assert_problem(answer, 422, "invalid-input")
