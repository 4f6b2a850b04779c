"""A refused read looks exactly like an unknown document, and is recorded."""

from __future__ import annotations

import uuid

from api_helpers import ALICE, DOCTOR, Caller, events, without_instance

from coffre.bootstrap import Coffre


def test_a_refused_read_is_indistinguishable_from_an_unknown_document(
    alice: Caller, doctor: Caller, coffre: Coffre
) -> None:
    deposit = alice.deposit(ALICE.id, b"compte rendu psychiatrique", type="psychiatric_summary")
    doctor.register_reader()

    # The doctor has no grant: the existing document is refused...
    before = events(coffre)
    refused = doctor.read(ALICE.id, deposit["document_id"])
    # ...and a document that never existed is simply unknown.
    unknown = doctor.read(ALICE.id, str(uuid.uuid4()))

    assert refused.status_code == unknown.status_code == 404
    assert without_instance(refused.json()) == without_instance(unknown.json())
    assert refused.json()["type"] == "https://coffre.invalid/problems/unknown-document"
    assert refused.headers["content-type"] == unknown.headers["content-type"]
    assert "sealed_key" not in refused.text

    # Both attempts were recorded (one event each), before answering.
    assert events(coffre) == before + 2

    # Alice sees the refusal in her access log, on the document the doctor tried.
    log = alice.get(
        f"/v1/spaces/{ALICE.id}/access-log", params={"actor_id": DOCTOR.id, "action": "read"}
    ).json()["entries"]
    attempt = next(e for e in log if e["document_id"] == deposit["document_id"])
    assert attempt["outcome"] == "refused"
    assert attempt["reason"] == "not_authorised"
    assert attempt["actor"]["name"] == DOCTOR.name


def test_a_read_after_revocation_is_refused_and_recorded(alice: Caller, doctor: Caller) -> None:
    deposit = alice.deposit(ALICE.id)
    grant = alice.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={
            "grant_id": None,
            "grantee": {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"},
            "scope": {"kind": "documents", "documents": [deposit["document_id"]]},
        },
    )
    # grant_id is not an input: unknown fields are refused rather than ignored.
    assert grant.status_code == 422
    grant = alice.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={
            "grantee": {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"},
            "scope": {"kind": "documents", "documents": [deposit["document_id"]]},
        },
    ).json()
    assert doctor.read(ALICE.id, deposit["document_id"]).status_code == 200
    alice.delete(f"/v1/spaces/{ALICE.id}/grants/{grant['grant_id']}")
    assert doctor.read(ALICE.id, deposit["document_id"]).status_code == 404

    entries = alice.get(f"/v1/spaces/{ALICE.id}/access-log").json()["entries"]
    assert [(e["action"], e["outcome"]) for e in entries[:3]] == [
        ("read", "refused"),
        ("revoke", "allowed"),
        ("read", "allowed"),
    ]


def test_a_deleted_document_reads_as_unknown(alice: Caller) -> None:
    deposit = alice.deposit(ALICE.id)
    alice.delete(f"/v1/spaces/{ALICE.id}/documents/{deposit['document_id']}")
    gone = alice.read(ALICE.id, deposit["document_id"])
    never = alice.read(ALICE.id, str(uuid.uuid4()))
    assert gone.status_code == 404
    assert without_instance(gone.json()) == without_instance(never.json())
