"""Idempotent feeding over HTTP, on (SQLite, files) and (PostgreSQL, Ceph RGW): a repeat
is a 200 with the document and leaves no second event nor blob; other content under the
same source identifier is a 409 problem naming the document, or a new version when the
deposit names it; a malformed identifier is a 422 and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coffre.bootstrap import Coffre
from tests.feeding.conftest import Feeder, bearer
from tests.uploads.helpers import HOSPITAL, PATIENT

PROBLEMS = "https://coffre.invalid/problems/"


def feeder(coffre: Coffre, client: TestClient, plaintext: bytes = b"bilan") -> Feeder:
    return Feeder(client, bearer(coffre, HOSPITAL), plaintext=plaintext)


def deposited(coffre: Coffre) -> int:
    """``Deposited`` events in the event store."""
    notifications = coffre.vault.recorder.select_notifications(start=1, limit=100_000)
    return sum(n.topic.endswith(":Space.Deposited") for n in notifications)


def listed(coffre: Coffre, client: TestClient) -> list[dict[str, object]]:
    answer = client.get(f"/v1/spaces/{PATIENT.id}/documents", headers=bearer(coffre, PATIENT))
    assert answer.status_code == 200, answer.text
    return answer.json()["documents"]  # type: ignore[no-any-return]


def test_a_repeat_is_a_200_naming_the_document_and_keeps_nothing_twice(
    coffre: Coffre, client: TestClient
) -> None:
    hospital = feeder(coffre, client)
    first_upload = hospital.upload()
    first = hospital.deposit(first_upload)
    assert first.status_code == 201, first.text
    # the same request again (a retry), then the same ciphertext uploaded again
    again = hospital.deposit(first_upload)
    copy = hospital.upload()
    assert len(set(coffre.blobs.names())) == 2
    repeat = hospital.deposit(copy)
    for answer in (again, repeat):
        assert answer.status_code == 200, answer.text
        assert answer.json() == first.json()
    assert deposited(coffre) == 1
    assert set(coffre.blobs.names()) == {first_upload["blob"]}
    (document,) = listed(coffre, client)
    assert document["document_id"] == first.json()["document_id"]


def test_other_content_is_a_409_naming_the_document_unless_it_replaces_it(
    coffre: Coffre, client: TestClient
) -> None:
    first = feeder(coffre, client).deposit(feeder(coffre, client).upload()).json()
    other = feeder(coffre, client, b"bilan corrige")
    upload = other.upload()
    refused = other.deposit(upload)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == PROBLEMS + "already-deposited"
    assert problem["document_id"] == first["document_id"]
    assert first["document_id"] in problem["detail"]
    assert deposited(coffre) == 1
    # naming the document replaces it: a new version; that replacement retried is a 200
    replaced = other.deposit(upload, document_id=first["document_id"])
    assert replaced.status_code == 201, replaced.text
    assert replaced.json() == {"document_id": first["document_id"], "version": 2}
    retried = other.deposit(upload, document_id=first["document_id"])
    assert (retried.status_code, retried.json()) == (200, replaced.json())
    (document,) = listed(coffre, client)
    assert document["version"] == 2
    assert deposited(coffre) == 2


def test_an_upload_deposited_without_an_identifier_is_refused_naming_its_document(
    coffre: Coffre, client: TestClient
) -> None:
    hospital = feeder(coffre, client)
    upload = hospital.upload()
    first = hospital.deposit(upload, source_id=None)
    assert first.status_code == 201, first.text
    again = hospital.deposit(upload, source_id=None)
    assert again.status_code == 409
    assert again.json()["document_id"] == first.json()["document_id"]


def test_a_malformed_source_identifier_is_a_422_naming_its_field(
    coffre: Coffre, client: TestClient
) -> None:
    hospital = feeder(coffre, client)
    upload = hospital.upload()
    for source, field in [
        ({"system": "not a uri", "value": "x"}, "source_id.system"),
        ({"system": "urn:oid:1.2", "value": "CR\u0000-1"}, "source_id.value"),
        ({"system": "urn:oid:1.2", "value": "CR\u202e-1"}, "source_id.value"),
        ({"system": "urn:oid:1.2", "value": "x" * 129}, "source_id.value"),
        ({"system": "urn:oid:1.2"}, "source_id.value"),
        ({"system": "urn:oid:1.2", "value": "x", "use": "official"}, "source_id.use"),
    ]:
        answer = hospital.deposit(upload, source_id=source)
        assert answer.status_code == 422, (source, answer.text)
        assert answer.json()["field"] == field
    assert deposited(coffre) == 0
    assert listed(coffre, client) == []


def test_the_openapi_document_describes_the_source_identifier_and_the_repeat(
    client: TestClient,
) -> None:
    openapi = client.get("/openapi.json").json()
    deposit = openapi["paths"]["/v1/spaces/{patient_id}/documents"]["post"]
    assert {"200", "201", "409"} <= set(deposit["responses"])
    schemas = openapi["components"]["schemas"]
    assert set(schemas["SourceIdIn"]["required"]) == {"system", "value"}
    assert schemas["SourceIdIn"]["properties"]["value"]["maxLength"] == 128
    assert "source_id" in schemas["DepositCreate"]["properties"]
    assert "document_id" in schemas["Problem"]["properties"]
