"""Each route's happy path, through HTTP, with real envelope encryption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api_helpers import ALICE, DOCTOR, HOSPITAL, NURSE, Caller
from fastapi.testclient import TestClient

from tests.devices import ENROLMENT


def test_health_answers_without_a_token(client: TestClient) -> None:
    answer = client.get("/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_a_service_provisions_a_space_and_anyone_allowed_fetches_its_key(
    hospital: Caller, caller, doctor: Caller
) -> None:
    # The hospital provisions Alice's space and receives the space's public key.
    created = hospital.post("/v1/spaces", json={"patient_id": ALICE.id})
    assert created.status_code == 201
    space = created.json()
    assert set(space) == {
        "patient_id",
        "space_id",
        "key_id",
        "public_key",
        "one_time_code",
        "opens_at",
        "reimported",
    }
    assert space["patient_id"] == ALICE.id

    # The service, a professional and the patient herself all see the same key.
    for who in (hospital, doctor, caller(ALICE)):
        answer = who.get(f"/v1/spaces/{ALICE.id}/key")
        assert answer.status_code == 200
        # The same key; the one-time code was given once, to the provisioning service.
        assert answer.json() == {
            k: space[k] for k in ("patient_id", "space_id", "key_id", "public_key")
        }


def test_adding_the_same_device_again_is_harmless(alice: Caller) -> None:
    first = alice.register_reader()
    assert alice.register_reader() == first
    again = alice.request_device()  # a fresh proof of a device already approved
    assert again.status_code == 201 and again.json()["status"] == "approved"


def test_upload_deposit_list_read_download_round_trip(alice: Caller) -> None:
    # Alice deposits a document in her own space.
    deposit = alice.deposit(ALICE.id, b"glycemie 0.9 g/L" * 1000, title="Bilan sanguin")
    assert deposit["version"] == 1

    # She lists it...
    listed = alice.get(f"/v1/spaces/{ALICE.id}/documents")
    assert listed.status_code == 200
    (summary,) = listed.json()["documents"]
    assert summary["document_id"] == deposit["document_id"]
    assert summary["title"] == "Bilan sanguin"
    assert summary["type"] == "lab_result"
    assert "sealed_key" not in summary

    # ...reads it: the key comes sealed to her reader key, the bytes from a ticket URL.
    release = alice.read(ALICE.id, deposit["document_id"])
    assert release.status_code == 200
    body = release.json()
    assert set(body) == {
        "access_id",
        "document",
        "sha256",
        "sealed_key",
        "content_url",
        "expires_at",
        "content_alternates",
    }
    assert body["content_url"].startswith("/v1/content/")
    assert body["content_alternates"] == []  # one blob store endpoint (files, here)
    assert alice.open_release(body) == b"glycemie 0.9 g/L" * 1000


def test_a_professional_deposits_and_reads_what_they_wrote(alice: Caller, doctor: Caller) -> None:
    deposit = doctor.deposit(ALICE.id, b"compte rendu", type="consultation_report")
    release = doctor.read(ALICE.id, deposit["document_id"])
    assert release.status_code == 200
    assert doctor.open_release(release.json()) == b"compte rendu"


def test_a_new_version_of_a_document(alice: Caller) -> None:
    first = alice.deposit(ALICE.id, b"v1")
    second = alice.deposit(ALICE.id, b"v2", document_id=first["document_id"])
    assert second == {"document_id": first["document_id"], "version": 2}
    assert alice.open_release(alice.read(ALICE.id, first["document_id"]).json()) == b"v2"


def test_the_patient_deletes_a_document(alice: Caller) -> None:
    deposit = alice.deposit(ALICE.id)
    answer = alice.delete(f"/v1/spaces/{ALICE.id}/documents/{deposit['document_id']}")
    assert answer.status_code == 204
    assert answer.content == b""
    assert alice.get(f"/v1/spaces/{ALICE.id}/documents").json() == {
        "documents": [],
        "next_cursor": None,
    }


def test_grant_list_and_revoke(alice: Caller, doctor: Caller) -> None:
    deposit = alice.deposit(ALICE.id, b"radio du genou", type="imaging_report")
    # Without a grant the doctor does not even see the document.
    assert doctor.get(f"/v1/spaces/{ALICE.id}/documents").json() == {
        "documents": [],
        "next_cursor": None,
    }

    # Alice grants the doctor imaging reports for a week.
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    granted = alice.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={
            "grantee": {
                "id": DOCTOR.id,
                "name": DOCTOR.name,
                "profession": "doctor",
                "organisation": "Cabinet Bernard",
            },
            "scope": {"kind": "types", "types": ["imaging_report"]},
            "expires_at": expires,
        },
    )
    assert granted.status_code == 201
    grant_id = granted.json()["grant_id"]

    listed = alice.get(f"/v1/spaces/{ALICE.id}/grants").json()["grants"]
    assert [(g["grant_id"], g["active"], g["grantee_id"]) for g in listed] == [
        (grant_id, True, DOCTOR.id)
    ]
    assert listed[0]["scope"] == {"kind": "types", "types": ["imaging_report"], "documents": []}

    # The doctor now sees and reads it.
    assert len(doctor.get(f"/v1/spaces/{ALICE.id}/documents").json()["documents"]) == 1
    release = doctor.read(ALICE.id, deposit["document_id"])
    assert doctor.open_release(release.json()) == b"radio du genou"

    # Alice revokes: the very next read is refused.
    revoked = alice.delete(f"/v1/spaces/{ALICE.id}/grants/{grant_id}")
    assert revoked.status_code == 204
    assert doctor.read(ALICE.id, deposit["document_id"]).status_code == 404
    (after,) = alice.get(f"/v1/spaces/{ALICE.id}/grants").json()["grants"]
    assert after["active"] is False
    assert after["revoked_at"] is not None


def test_the_access_log_shows_the_patients_latest_actions(alice: Caller, doctor: Caller) -> None:
    deposit = alice.deposit(ALICE.id)
    alice.read(ALICE.id, deposit["document_id"])
    doctor.read(ALICE.id, deposit["document_id"])  # refused: no grant

    page = alice.get(f"/v1/spaces/{ALICE.id}/access-log").json()
    actions = [(e["action"], e["outcome"], e["actor"]["id"]) for e in page["entries"]]
    # Newest first; the embedded API catches the projection up before answering.
    assert actions == [
        ("read", "refused", DOCTOR.id),
        ("read", "allowed", ALICE.id),
        # her first read added her device: asked, code sent, approved (the doctor's are
        # his own, not in her log)
        ("device_approve", "allowed", ALICE.id),
        ("device_code", "allowed", ENROLMENT.id),
        ("device_request", "allowed", ALICE.id),
        ("deposit", "allowed", ALICE.id),
        ("open", "allowed", "coffre-scheduler"),  # no opposition period in these tests
        ("provision", "allowed", HOSPITAL.id),
    ]
    assert page["next_cursor"] is None
    refused = page["entries"][0]
    assert refused["reason"] == "not_authorised"
    assert refused["document_title"] == "Bilan sanguin"
    # the log shows which device read
    assert page["entries"][1]["device"] == {"key_id": alice.reader_key_id, "name": "test device"}


def test_the_access_log_pages_and_filters(alice: Caller, doctor: Caller) -> None:
    deposit = alice.deposit(ALICE.id)
    for _ in range(3):
        alice.read(ALICE.id, deposit["document_id"])
    url = f"/v1/spaces/{ALICE.id}/access-log"

    first = alice.get(url, params={"limit": 2}).json()
    assert len(first["entries"]) == 2
    second = alice.get(url, params={"limit": 2, "before": first["next_cursor"]}).json()
    assert [e["entry_id"] for e in second["entries"]] < [e["entry_id"] for e in first["entries"]]

    reads = alice.get(url, params={"action": "read"}).json()["entries"]
    assert len(reads) == 3
    by_doctor = alice.get(url, params={"actor_id": DOCTOR.id}).json()["entries"]
    assert by_doctor == []
    of_document = alice.get(url, params={"document_id": deposit["document_id"]}).json()
    assert {e["action"] for e in of_document["entries"]} == {"deposit", "read"}
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert alice.get(url, params={"since": future}).json()["entries"] == []


def test_a_nurse_with_a_space_wide_grant_lists_everything(alice: Caller, caller) -> None:
    alice.deposit(ALICE.id)
    nurse = caller(NURSE)
    answer = alice.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={
            "grantee": {"id": NURSE.id, "name": NURSE.name, "profession": "nurse"},
            "scope": {"kind": "space"},
        },
    )
    assert answer.status_code == 201
    assert len(nurse.get(f"/v1/spaces/{ALICE.id}/documents").json()["documents"]) == 1


def test_openapi_has_stable_operation_ids_and_problem_errors(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ids = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert {
        "health-health",
        "spaces-provision_space",
        "spaces-space_key",
        "devices-device_challenge",
        "devices-request_device",
        "devices-list_devices",
        "devices-approve_device",
        "devices-revoke_device",
        "documents-upload_ciphertext",
        "documents-deposit_document",
        "documents-list_documents",
        "documents-read_document",
        "documents-delete_document",
        "content-read_content",
        "grants-grant",
        "grants-list_grants",
        "grants-revoke",
        "access-log-read_access_log",
        "trail-trail_public_key",
        "trail-export_trail",
    } <= ids  # routes may be added; these ids must never change
    upload = schema["paths"]["/v1/spaces/{patient_id}/uploads"]["post"]
    assert "application/octet-stream" in upload["requestBody"]["content"]
    read = schema["paths"]["/v1/spaces/{patient_id}/documents/{document_id}/reads"]["post"]
    assert set(read["responses"]["404"]["content"]) == {"application/problem+json"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
