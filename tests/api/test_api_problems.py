"""Errors are RFC 9457 problems with a stable type, and bad input records nothing."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from api_helpers import ALICE, BRUNO, DOCTOR, Caller, events
from fastapi.testclient import TestClient

from coffre.bootstrap import Coffre
from domain.values import patient_id_from_number

PROBLEMS = "https://coffre.invalid/problems/"


def assert_problem(answer: Any, status: int, code: str, field: str | None = None) -> dict:
    """The answer is a problem+json of this status and type (and field, if given)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == PROBLEMS + code
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert set(body) <= {"type", "title", "status", "detail", "field", "instance", "rule", "scope"}
    if field is not None:
        assert body["field"] == field
    assert body["instance"] == f"urn:coffre:request:{answer.headers['x-request-id']}"
    return body


def test_unknown_patient_is_unknown_space(alice: Caller) -> None:
    nobody = patient_id_from_number("1850775123456")  # a valid INS with no space
    assert_problem(alice.get(f"/v1/spaces/{nobody}/documents"), 404, "unknown-space")


def test_malformed_patient_id(alice: Caller) -> None:
    answer = alice.get("/v1/spaces/123/documents")
    assert_problem(answer, 422, "invalid-input", field="patient_id")


def test_provisioning_twice_conflicts(hospital: Caller, alice: Caller) -> None:
    answer = hospital.post("/v1/spaces", json={"patient_id": ALICE.id})
    assert_problem(answer, 409, "space-already-exists")


def test_revoking_an_unknown_grant(alice: Caller) -> None:
    answer = alice.delete(f"/v1/spaces/{ALICE.id}/grants/{uuid.uuid4()}")
    assert_problem(answer, 404, "unknown-grant")


def test_reading_with_an_unregistered_reader_key(alice: Caller) -> None:
    deposit = alice.deposit(ALICE.id)
    url = f"/v1/spaces/{ALICE.id}/documents/{deposit['document_id']}/reads"
    answer = alice.post(url, json={"reader_key_id": "0" * 32})
    assert_problem(answer, 404, "unknown-reader-key")


def test_a_forged_content_ticket(client: TestClient) -> None:
    answer = client.get(
        "/v1/content/eyJibG9iIjoiMDAifQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    )
    assert_problem(answer, 400, "integrity-failure")
    assert_problem(client.get("/v1/content/no-dot-here"), 422, "invalid-input", field="ticket")


def test_a_professional_on_a_patient_only_route(alice: Caller, doctor: Caller) -> None:
    for answer in (
        doctor.get(f"/v1/spaces/{ALICE.id}/grants"),
        doctor.get(f"/v1/spaces/{ALICE.id}/access-log"),
        doctor.delete(f"/v1/spaces/{ALICE.id}/grants/{uuid.uuid4()}"),
    ):
        assert_problem(answer, 403, "forbidden")


def test_a_patient_reading_another_patients_access_log(
    alice: Caller, hospital: Caller, caller
) -> None:
    hospital.post("/v1/spaces", json={"patient_id": BRUNO.id})
    bruno = caller(BRUNO)
    # Answered as if there were no space: another patient may not learn that it exists.
    assert_problem(bruno.get(f"/v1/spaces/{ALICE.id}/access-log"), 404, "unknown-space")
    assert_problem(bruno.get(f"/v1/spaces/{ALICE.id}/key"), 404, "unknown-space")


def test_only_services_provision(alice: Caller, caller) -> None:
    answer = alice.post("/v1/spaces", json={"patient_id": BRUNO.id})
    assert_problem(answer, 403, "forbidden")


def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "not-found")
    answer = client.delete("/v1/health")
    assert_problem(answer, 405, "method-not-allowed")
    assert "GET" in answer.headers["allow"]


def test_validation_errors_are_concise_and_never_echo_input(alice: Caller) -> None:
    secret_ish = "x" * 5000
    answer = alice.post("/v1/devices", json={"signing_key": secret_ish})
    body = assert_problem(answer, 422, "invalid-input", field="signing_key")
    assert secret_ish[:100] not in answer.text
    assert len(body["detail"]) <= 200

    answer = alice.post(
        "/v1/devices", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(answer, 422, "invalid-input", field="body")
    device = {"signing_key": "AAAA", "name": "n", "challenge": "c", "signature": "AAAA"}
    answer = alice.post("/v1/devices", json={**device, "extra": 1})
    assert_problem(answer, 422, "invalid-input", field="extra")


def test_a_huge_json_body_is_refused_before_it_is_read(alice: Caller) -> None:
    huge = b'{"signing_key": "' + b"A" * 1_000_000 + b'"}'
    answer = alice.post("/v1/devices", content=huge, headers={"content-type": "application/json"})
    assert_problem(answer, 413, "body-too-large")

    # Same when the size is not announced (chunked): counted as it arrives.
    chunked = (huge[i : i + 65536] for i in range(0, len(huge), 65536))
    answer = alice.post(
        "/v1/devices", content=chunked, headers={"content-type": "application/json"}
    )
    assert_problem(answer, 413, "body-too-large")


# -- bad input changes nothing -----------------------------------------------------------


def deposit_body(alice: Caller, **overrides: Any) -> dict[str, Any]:
    """A valid deposit body for a fresh upload, with ``overrides`` applied."""
    upload, sealed_key = alice.upload(ALICE.id, b"compte rendu")
    body = {
        "receipt": upload["receipt"],
        "type": "lab_result",
        "title": "Bilan",
        "date": "2025-03-14",
        "sealed_key": sealed_key,
    }
    return {**body, **overrides}


BAD_DEPOSITS = {
    "empty title": ({"title": "   "}, "title"),
    "oversize title": ({"title": "t" * 201}, "title"),
    "huge title": ({"title": "t" * 50_000}, "title"),
    "control characters in title": ({"title": "Bilan\x1b[31m"}, "title"),
    "unknown document type": ({"type": "horoscope"}, "type"),
    "not a date": ({"date": "yesterday"}, "date"),
    "short sealed key": ({"sealed_key": "AAAA"}, "sealed_key"),
    "not base64 sealed key": ({"sealed_key": "%%%"}, "sealed_key"),
    "forged receipt": ({"receipt": "eyJ4IjoxfQ.AAAA"}, None),
    # the one-call form of a direct upload (``upload`` + ``sha256``): one way or the other
    "receipt and upload": ({"upload": "eyJ4IjoxfQ.AAAA", "sha256": "0" * 64}, None),
    "no receipt nor upload": ({"receipt": None}, None),
    "upload without sha256": ({"receipt": None, "upload": "eyJ4IjoxfQ.AAAA"}, None),
    "sha256 without upload": ({"sha256": "0" * 64}, None),
    "short sha256": ({"receipt": None, "upload": "eyJ4IjoxfQ.AAAA", "sha256": "0"}, "sha256"),
    "unknown field": ({"comment": "hi"}, "comment"),
}


@pytest.mark.parametrize("case", BAD_DEPOSITS, ids=list(BAD_DEPOSITS))
def test_a_bad_deposit_records_nothing(alice: Caller, coffre: Coffre, case: str) -> None:
    overrides, field = BAD_DEPOSITS[case]
    body = deposit_body(alice, **overrides)
    before = events(coffre)
    answer = alice.post(f"/v1/spaces/{ALICE.id}/documents", json=body)
    assert answer.status_code in (400, 422), answer.text
    if field is not None:
        assert_problem(answer, 422, "invalid-input", field=field)
    assert events(coffre) == before
    assert alice.get(f"/v1/spaces/{ALICE.id}/documents").json() == {
        "documents": [],
        "next_cursor": None,
    }


def test_the_one_call_form_without_direct_uploads_says_so(alice: Caller, coffre: Coffre) -> None:
    # this vault's store takes no direct uploads: 409, the client relays instead
    body = deposit_body(alice, receipt=None, upload="eyJ4IjoxfQ.AAAA", sha256="0" * 64)
    before = events(coffre)
    answer = alice.post(f"/v1/spaces/{ALICE.id}/documents", json=body)
    assert_problem(answer, 409, "direct-upload-unavailable")
    assert events(coffre) == before


BAD_GRANTS = {
    "a grant to oneself": {"id": ALICE.id, "name": ALICE.name, "profession": "doctor"},
    "a bad RPPS number": {"id": "12345678901", "name": "Dr X", "profession": "doctor"},
    "an unknown profession": {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "wizard"},
    "an empty name": {"id": DOCTOR.id, "name": " ", "profession": "doctor"},
}


@pytest.mark.parametrize("case", BAD_GRANTS, ids=list(BAD_GRANTS))
def test_a_bad_grant_records_nothing(alice: Caller, coffre: Coffre, case: str) -> None:
    before = events(coffre)
    answer = alice.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={"grantee": BAD_GRANTS[case], "scope": {"kind": "space"}},
    )
    assert_problem(answer, 422, "invalid-input")
    assert events(coffre) == before


@pytest.mark.parametrize(
    "scope",
    [
        {"kind": "types", "types": []},
        {"kind": "types", "types": ["horoscope"]},
        {"kind": "documents", "documents": [str(uuid.uuid4())]},
        {"kind": "space", "types": ["lab_result"]},
        {"kind": "everything"},
    ],
)
def test_a_bad_scope_records_nothing(alice: Caller, coffre: Coffre, scope: dict) -> None:
    before = events(coffre)
    answer = alice.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={"grantee": {"id": DOCTOR.id, "name": "Dr B", "profession": "doctor"}, "scope": scope},
    )
    assert_problem(answer, 422, "invalid-input")
    assert events(coffre) == before


def test_bad_provisioning_and_device_keys_record_nothing(hospital: Caller, coffre: Coffre) -> None:
    before = events(coffre)
    wrong_key = patient_id_from_number("1850775123456")[:13] + "00"
    for patient_id in ("123", wrong_key, ""):
        answer = hospital.post("/v1/spaces", json={"patient_id": patient_id})
        assert_problem(answer, 422, "invalid-input", field="patient_id")
    # Malformed keys, not a point of the curve, a signature of the wrong size: refused
    # before any attempt is recorded (a well-formed but wrong proof is recorded).
    signature = base64.b64encode(bytes(64)).decode()
    zeros = base64.b64encode(bytes(32)).decode()  # 32 bytes, but no point of the curve
    bad = [("AAAA", "invalid-input"), ("not base64!", "invalid-input"), ("", "invalid-input")]
    for key, code in [*bad, (zeros, "invalid-key")]:
        challenge = hospital.post("/v1/devices/challenges").json()["challenge"]
        body = {"signing_key": key, "name": "n", "challenge": challenge, "signature": signature}
        answer = hospital.post("/v1/devices", json=body)
        assert_problem(answer, 422, code, field="signing_key")
    assert events(coffre) == before
