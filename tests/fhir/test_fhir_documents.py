"""The FHIR facade's documents (IHE MHD ITI-65, ITI-67 and the read, ITI-68) on both
backends: every resource validates, a feed retried records one document, a retrieval is
a recorded read, reading metadata is recorded no more than searching it."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from api.middleware import MAX_FHIR_TRANSACTION
from coffre.bootstrap import Coffre
from projections.runner import wait_for
from tests.api.api_helpers import ALICE, AUDITOR, DOCTOR, Caller, events, grant_space
from tests.fhir.fhir_helpers import (
    FHIR_JSON,
    document_id_of,
    patient_query,
    provide,
    provide_bundle,
    valid,
)
from wire.envelope import decrypt, unseal
from wire.mhd import ENVELOPE_MEDIA_TYPE

PLAINTEXT = b"Hemoglobine 13.2 g/dL\n" * 40


def search(caller: Caller, patient_id: str, extra: str = "") -> Any:
    """An ITI-67 search (the raw response)."""
    return caller.get(f"/fhir/DocumentReference?{patient_query(patient_id)}{extra}")


def retrieve(caller: Caller, url: str) -> Any:
    """An ITI-68 retrieval of an attachment URL (the raw response)."""
    key_id = caller.reader_key_id or caller.register_reader()
    return caller.get(url, headers={"X-Coffre-Reader-Key": key_id})


def test_the_capability_statement_validates_and_names_only_what_is_built(
    client: TestClient,
) -> None:
    answer = client.get("/fhir/metadata")
    assert answer.status_code == 200
    statement = valid(answer.json())
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {"DocumentReference", "Binary", "Consent", "AuditEvent"}
    assert statement["rest"][0]["interaction"] == [{"code": "transaction"}]
    interactions = {kind: [i["code"] for i in r["interaction"]] for kind, r in resources.items()}
    assert interactions == {
        "DocumentReference": ["read", "update", "search-type"],
        "Binary": ["read"],
        "Consent": ["search-type"],
        "AuditEvent": ["search-type"],
    }
    for resource in resources.values():
        names = [parameter["name"] for parameter in resource.get("searchParam", [])]
        assert len(names) == len(set(names)), names


def test_find_document_lists_is_not_claimed_and_answers_an_outcome(
    client: TestClient, alice: Caller
) -> None:
    # ITI-66 needs the SubmissionSets, which Coffre does not record (docs/fhir.md):
    # neither claimed nor answered with lists made up from the deposits
    answer = alice.get(f"/fhir/List?{patient_query(ALICE.id)}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    assert valid(answer.json())["issue"][0]["code"] == "not-found"
    statement = client.get("/fhir/metadata").json()
    assert "List" not in {resource["type"] for resource in statement["rest"][0]["resource"]}


def test_a_bundle_retried_three_times_records_one_document(
    coffre: Coffre, hospital: Caller, alice: Caller
) -> None:
    bundle = provide_bundle(hospital, ALICE.id, PLAINTEXT)
    answers = [provide(hospital, bundle) for _ in range(4)]
    statuses = [answer["entry"][1]["response"]["status"] for answer in answers]
    assert statuses == ["201 Created", "200 OK", "200 OK", "200 OK"]
    assert len({document_id_of(answer) for answer in answers}) == 1
    assert [answer["entry"][0]["response"]["status"] for answer in answers] == ["200 OK"] * 4
    assert [answer["entry"][2]["response"]["status"] for answer in answers] == statuses
    assert len(coffre.vault.documents(ALICE.id, ALICE)) == 1


def test_the_same_master_identifier_with_other_content_is_a_conflict_outcome(
    hospital: Caller, alice: Caller
) -> None:
    provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT))
    again = hospital.post("/fhir", json=provide_bundle(hospital, ALICE.id, b"autre"))
    assert again.status_code == 409
    outcome = valid(again.json())
    assert outcome["issue"][0]["code"] == "conflict"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "already-deposited"


def test_relates_to_replaces_makes_a_new_version(hospital: Caller, alice: Caller) -> None:
    first = document_id_of(provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT)))
    second = provide(
        hospital, provide_bundle(hospital, ALICE.id, b"corrige", source="doc-1", replaces=first)
    )
    assert second["entry"][1]["response"]["location"] == f"DocumentReference/{first}/_history/2"
    found = valid(search(alice, ALICE.id).json())
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["meta"]["versionId"] == "2"


def test_a_search_lists_what_the_json_listing_lists_with_codes_and_labels(
    hospital: Caller, alice: Caller
) -> None:
    provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT, labels=("MASQUE_PS",)))
    answer = search(alice, ALICE.id, "&status=current&type=http://loinc.org|11502-2")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(FHIR_JSON)
    bundle = valid(answer.json())
    listed = alice.get(f"/v1/spaces/{ALICE.id}/documents").json()["documents"]
    assert bundle["type"] == "searchset" and bundle["total"] == len(listed) == 1
    resource = bundle["entry"][0]["resource"]
    assert resource["id"] == listed[0]["document_id"]
    assert resource["type"]["coding"][0]["code"] == "11502-2"
    assert resource["category"][0]["coding"][0]["code"] == "10"
    assert [label["coding"][0]["code"] for label in resource["securityLabel"]] == ["MASQUE_PS"]
    assert resource["content"][0]["attachment"]["contentType"] == ENVELOPE_MEDIA_TYPE
    # other types, other statuses, other days match nothing
    for extra in ("&type=http://loinc.org|11488-4", "&status=superseded", "&date=lt2000-01-01"):
        assert valid(search(alice, ALICE.id, extra).json())["total"] == 0


def read_reference(caller: Caller, patient_id: str, document_id: str, extra: str = "") -> Any:
    """A FHIR read of a DocumentReference (the raw response)."""
    return caller.get(f"/fhir/DocumentReference/{document_id}?{patient_query(patient_id)}{extra}")


def test_reading_metadata_is_recorded_as_searching_it_is_not_at_all(
    coffre: Coffre, caller: Any, hospital: Caller, alice: Caller
) -> None:
    provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT))
    grant_space(alice, DOCTOR)
    doctor = caller(DOCTOR)
    before = events(coffre)
    # ITI-67 records nothing (as ``GET .../documents``): neither does the read
    found = valid(search(doctor, ALICE.id).json())["entry"][0]["resource"]
    assert events(coffre) == before
    assert valid(read_reference(doctor, ALICE.id, found["id"]).json()) == found
    assert read_reference(doctor, ALICE.id, str(uuid.uuid4())).status_code == 404
    assert events(coffre) == before
    # the content's read (ITI-68) is what is recorded
    assert retrieve(doctor, found["content"][0]["attachment"]["url"]).status_code == 200
    assert events(coffre) > before


def test_a_read_follows_a_new_version(hospital: Caller, alice: Caller) -> None:
    first = document_id_of(provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT)))
    provide(hospital, provide_bundle(hospital, ALICE.id, b"v2", source="doc-1", replaces=first))
    answer = read_reference(alice, ALICE.id, first)
    assert answer.status_code == 200 and answer.headers["etag"] == 'W/"2"'
    assert valid(answer.json())["meta"]["versionId"] == "2"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/fhir/DocumentReference/{uuid.UUID(int=1)}?{patient_query(ALICE.id)}&_elements=id", 422),
        (f"/fhir/DocumentReference/not-an-id?{patient_query(ALICE.id)}", 422),
        (f"/fhir/DocumentReference/{uuid.UUID(int=1)}", 422),
        (f"/fhir/DocumentReference/{uuid.UUID(int=1)}?patient.identifier=x", 422),
    ],
)
def test_bad_reads_are_outcomes(alice: Caller, path: str, status: int) -> None:
    answer = alice.get(path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    assert valid(answer.json())["issue"][0]["code"] == "invalid"


def test_a_read_without_a_token_is_a_login_outcome(client: TestClient, alice: Caller) -> None:
    answer = client.get(f"/fhir/DocumentReference/{uuid.uuid4()}?{patient_query(ALICE.id)}")
    assert answer.status_code == 401
    assert valid(answer.json())["issue"][0]["code"] == "login"


def test_a_retrieval_is_a_recorded_read_in_the_log_and_the_trail_like_a_json_read(
    coffre: Coffre, caller: Any, hospital: Caller, alice: Caller
) -> None:
    provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT))
    found = valid(search(alice, ALICE.id).json())["entry"][0]["resource"]
    document_id = found["id"]
    answer = retrieve(alice, found["content"][0]["attachment"]["url"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == ENVELOPE_MEDIA_TYPE
    assert PLAINTEXT not in answer.content
    data_key = unseal(base64.b64decode(answer.headers["X-Coffre-Sealed-Key"]), bytes(alice.reader))
    assert b"".join(decrypt(iter([answer.content]), data_key)) == PLAINTEXT
    # the same read through the JSON API: the two log lines say the same
    assert alice.read(ALICE.id, document_id).status_code == 200
    wait_for(coffre.runner)  # the views are eventual where projections run apart
    log = alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"action": "read"}).json()
    reads = [entry for entry in log["entries"] if entry.get("document_id") == document_id]
    assert len(reads) == 2
    same = [{k: v for k, v in e.items() if k not in ("at", "entry_id", "id")} for e in reads]
    assert same[0] == same[1]
    regulator = caller(AUDITOR)
    trail = regulator.get("/v1/trail/export", params={"patient_id": ALICE.id}).text
    names = [json.loads(json.loads(line)["entry"])["event"] for line in trail.splitlines()[1:-1]]
    assert names.count("Access.Read") == 2


def test_a_refused_retrieval_is_recorded_and_answers_like_an_unknown_document(
    coffre: Coffre, caller: Any, hospital: Caller, alice: Caller
) -> None:
    provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT))
    url = valid(search(alice, ALICE.id).json())["entry"][0]["resource"]["content"][0]
    answer = retrieve(caller(DOCTOR), url["attachment"]["url"])
    assert answer.status_code == 404
    outcome = valid(answer.json())
    assert outcome["issue"][0]["code"] == "not-found"
    wait_for(coffre.runner)
    log = alice.get(f"/v1/spaces/{ALICE.id}/access-log").json()["entries"]
    assert any(entry.get("outcome") == "refused" for entry in log), log


def test_no_retrieval_without_a_recorded_read(
    coffre: Coffre, hospital: Caller, alice: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT))
    url = valid(search(alice, ALICE.id).json())["entry"][0]["resource"]["content"][0]
    key_id = alice.register_reader()
    resealed: list[object] = []
    opened: list[object] = []
    original_reseal = coffre.keyring.reseal
    original_open = coffre.vault.open_content
    monkeypatch.setattr(
        coffre.keyring, "reseal", lambda *a, **k: resealed.append(a) or original_reseal(*a, **k)
    )
    monkeypatch.setattr(
        coffre.vault, "open_content", lambda *a, **k: opened.append(a) or original_open(*a, **k)
    )

    def failing_insert(*args: object, **kwargs: object) -> None:
        raise OperationalError("disk full")

    # The event store fails as the read is being recorded.
    monkeypatch.setattr(coffre.vault.recorder, "insert_events", failing_insert)
    answer = alice.get(url["attachment"]["url"], headers={"X-Coffre-Reader-Key": key_id})
    assert answer.status_code == 503
    assert valid(answer.json())["issue"][0]["code"] == "transient"
    assert resealed == [] and opened == []
    assert PLAINTEXT not in answer.content


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("patient.identifier=x", "patient.identifier"),
        ("patient.identifier=urn%3Aoid%3A1.2.250.1.213.1.4.8%7C285077512345624&_sort=date", None),
        ("patient.identifier=urn%3Aoid%3A1.2.250.1.213.1.4.8%7C285077512345624&_cursor=zz", None),
        ("patient.identifier=urn%3Aoid%3A1.2.250.1.213.1.4.8%7C285077512345624&date=ge2025", None),
    ],
)
def test_bad_searches_are_invalid_input_outcomes(
    alice: Caller, query: str, field: str | None
) -> None:
    answer = alice.get(f"/fhir/DocumentReference?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    assert valid(answer.json())["issue"][0]["code"] == "invalid"


def test_without_a_token_or_scope_the_answer_is_an_outcome(
    client: TestClient, coffre: Coffre, alice: Caller
) -> None:
    answer = client.get(f"/fhir/DocumentReference?{patient_query(ALICE.id)}")
    assert answer.status_code == 401
    assert valid(answer.json())["issue"][0]["code"] == "login"
    assert client.post("/fhir", json={}).status_code == 401
    doctor = coffre.tokens.mint(DOCTOR)
    grant_space(alice, DOCTOR)
    listed = client.get(
        f"/fhir/DocumentReference?{patient_query(ALICE.id)}",
        headers={"Authorization": f"Bearer {doctor}"},
    )
    assert listed.status_code == 200


def test_a_bad_bundle_is_refused_before_anything_is_stored(
    coffre: Coffre, hospital: Caller, alice: Caller
) -> None:
    bundle = provide_bundle(hospital, ALICE.id, PLAINTEXT)
    bundle["entry"][2]["fullUrl"] = "urn:uuid:elsewhere"
    answer = hospital.post("/fhir", json=bundle)
    assert answer.status_code == 422
    assert "attachment.url" in valid(answer.json())["issue"][0]["expression"][0]
    assert coffre.vault.documents(ALICE.id, ALICE) == []


def test_a_bundle_larger_than_a_json_body_is_accepted_up_to_its_own_cap(
    coffre: Coffre, hospital: Caller, alice: Caller
) -> None:
    # 400 KiB of envelope (base64: ~540 KiB) is over MAX_JSON_BODY, under the FHIR cap
    big = provide_bundle(hospital, ALICE.id, b"\x00" * (400 * 1024))
    assert provide(hospital, big)["entry"][1]["response"]["status"] == "201 Created"
    too_big = hospital.post(
        "/fhir",
        content=b"{" + b" " * MAX_FHIR_TRANSACTION + b"}",
        headers={"Content-Type": FHIR_JSON},
    )
    assert too_big.status_code == 413
    assert valid(too_big.json())["issue"][0]["code"] == "too-long"


def test_the_openapi_document_says_fhir_errors_are_operation_outcomes(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    search = paths["/fhir/DocumentReference"]["get"]["responses"]["422"]["content"]
    assert set(search) == {FHIR_JSON}
    json_route = paths["/v1/spaces/{patient_id}/documents"]["get"]["responses"]["422"]
    assert set(json_route["content"]) == {"application/problem+json"}
