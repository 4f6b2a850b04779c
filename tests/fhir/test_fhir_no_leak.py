"""ITI-67 never reveals a document its caller may not see: not in the entries, not in
``total``, not in the paging links (the leaks of HAPI FHIR #1507 and #2012).

One space holds a document masked from professionals and one held for an announcement
consultation; for each reader, the same search on a space that never held the document
hidden from them answers identically, page by page, apart from ids and instants. The
read of one DocumentReference answers the search's entry, and for anything the search
does not show its caller the very 404 an id that never existed gets.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from domain.values import Actor, patient_id_from_number
from tests.api.api_helpers import ALICE, DOCTOR, Caller, grant_space
from tests.fhir.conftest import provisioned
from tests.fhir.fhir_helpers import FHIR_JSON, patient_query, provide, provide_bundle, valid
from wire.values import Role

CAROL = Actor(Role.PATIENT, patient_id_from_number("2920375111111"), "Carol Blanc")
DAVE = Actor(Role.PATIENT, patient_id_from_number("1880469222222"), "Dave Noir")

#: the documents, in deposit order: (title, confidentiality codes)
DOCUMENTS = [
    ("Bilan A1", ()),
    ("Compte rendu masque", ("MASQUE_PS",)),
    ("Bilan A2", ()),
    ("Annonce en attente", ("INVISIBLE_PATIENT",)),
    ("Bilan A3", ()),
]
MASKED, HELD = DOCUMENTS[1][0], DOCUMENTS[3][0]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def feed(hospital: Caller, patient_id: str, leave_out: str | None = None) -> None:
    """Deposit ``DOCUMENTS`` (but ``leave_out``) in order, through ITI-65."""
    for number, (title, labels) in enumerate(DOCUMENTS):
        if title != leave_out:
            bundle = provide_bundle(
                hospital, patient_id, b"x" * 300, source=f"doc-{number}", title=title, labels=labels
            )
            provide(hospital, bundle)


def pages(caller: Caller, patient_id: str, count: int) -> list[dict[str, Any]]:
    """Every page of a search, following ``next`` links as a client does."""
    answer = caller.get(f"/fhir/DocumentReference?{patient_query(patient_id)}&_count={count}")
    found = [valid(answer.json())]
    while (link := _next(found[-1])) is not None:
        assert len(found) < 10
        found.append(valid(caller.get(link).json()))
    return found


def _next(bundle: dict[str, Any]) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


def anonymous(found: list[dict[str, Any]], patient_id: str) -> str:
    """The pages with the patient's INS, document ids and instants blotted out."""
    text = json.dumps(found, sort_keys=True).replace(patient_id, "<INS>")
    return _INSTANT.sub("<instant>", _UUID.sub("<id>", text))


def titles(found: list[dict[str, Any]]) -> list[str]:
    """The titles listed, page after page."""
    return [entry["resource"]["description"] for page in found for entry in page.get("entry", [])]


@pytest.fixture
def spaces(caller: Any, hospital: Caller, alice: Caller) -> dict[str, Caller]:
    """Alice's space holds every document; Carol's never held the masked one, Dave's
    never held the one awaiting its announcement. The doctor is granted Alice's and
    Carol's spaces."""
    carol = provisioned(hospital, caller, CAROL)
    dave = provisioned(hospital, caller, DAVE)
    feed(hospital, ALICE.id)
    feed(hospital, CAROL.id, leave_out=MASKED)
    feed(hospital, DAVE.id, leave_out=HELD)
    grant_space(alice, DOCTOR)
    grant_space(carol, DOCTOR)
    return {"alice": alice, "carol": carol, "dave": dave, "doctor": caller(DOCTOR)}


@pytest.mark.parametrize("count", [2, 3, 0, 100])
def test_a_professionals_search_is_that_of_a_space_without_the_masked_document(
    spaces: dict[str, Caller], count: int
) -> None:
    doctor = spaces["doctor"]
    seen = pages(doctor, ALICE.id, count)
    assert MASKED not in titles(seen)
    if count:
        assert titles(seen) == ["Bilan A3", HELD, "Bilan A2", "Bilan A1"]
    assert seen[0]["total"] == 4
    assert anonymous(seen, ALICE.id) == anonymous(pages(doctor, CAROL.id, count), CAROL.id)


@pytest.mark.parametrize("count", [2, 3, 0, 100])
def test_a_patients_search_is_that_of_a_space_without_the_held_document(
    spaces: dict[str, Caller], count: int
) -> None:
    seen = pages(spaces["alice"], ALICE.id, count)
    assert HELD not in titles(seen)
    if count:
        assert titles(seen) == ["Bilan A3", "Bilan A2", MASKED, "Bilan A1"]
        masked = [
            entry["resource"]
            for page in seen
            for entry in page.get("entry", [])
            if entry["resource"]["description"] == MASKED
        ]
        assert masked[0]["securityLabel"][0]["coding"][0]["code"] == "MASQUE_PS"
    assert seen[0]["total"] == 4
    assert anonymous(seen, ALICE.id) == anonymous(pages(spaces["dave"], DAVE.id, count), DAVE.id)


def test_a_cursor_is_a_place_in_the_callers_own_matches(spaces: dict[str, Caller]) -> None:
    # the doctor's second page of two starts at the third document it may see, and the
    # same cursor on the patient's search is a place in the patient's own list
    doctor, alice = spaces["doctor"], spaces["alice"]
    second = pages(doctor, ALICE.id, 2)[1]
    assert titles([second]) == ["Bilan A2", "Bilan A1"]
    link = next(link["url"] for link in second["link"] if link["relation"] == "self")
    assert titles([valid(alice.get(link).json())]) == [MASKED, "Bilan A1"]


# -- the read (``GET /fhir/DocumentReference/{id}``) ---------------------------------


def read(caller: Caller, patient_id: str, document_id: str) -> Any:
    """A FHIR read of a DocumentReference in a patient's space (the raw response)."""
    return caller.get(f"/fhir/DocumentReference/{document_id}?{patient_query(patient_id)}")


def not_found(answer: Any) -> dict[str, Any]:
    """A 404 OperationOutcome, validated, without its per-request ``id``."""
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    outcome = valid(answer.json())
    assert outcome["issue"][0]["code"] == "not-found"
    return {key: value for key, value in outcome.items() if key != "id"}


def ids_of(patient_id: str, *callers: Caller) -> dict[str, str]:
    """The ids of the documents ``callers`` list in a space, by title (the patient's and
    the doctor's searches together list them all)."""
    found = [page for caller in callers for page in pages(caller, patient_id, 100)]
    return {
        entry["resource"]["description"]: entry["resource"]["id"]
        for page in found
        for entry in page.get("entry", [])
    }


@pytest.mark.parametrize("reader", ["alice", "doctor"])
def test_a_read_answers_the_very_entry_the_search_shows(
    spaces: dict[str, Caller], reader: str
) -> None:
    caller = spaces[reader]
    entries = [entry for page in pages(caller, ALICE.id, 100) for entry in page["entry"]]
    assert len(entries) == 4
    for entry in entries:
        answer = read(caller, ALICE.id, entry["resource"]["id"])
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(FHIR_JSON)
        assert valid(answer.json()) == entry["resource"]
        assert answer.headers["etag"] == f'W/"{entry["resource"]["meta"]["versionId"]}"'


def test_a_document_hidden_from_its_reader_reads_like_one_that_never_existed(
    spaces: dict[str, Caller],
) -> None:
    alice, doctor = spaces["alice"], spaces["doctor"]
    ids = ids_of(ALICE.id, alice, doctor)
    carols = ids_of(CAROL.id, doctor)["Bilan A1"]
    nowhere = not_found(read(doctor, ALICE.id, str(uuid.uuid4())))
    # masked from the doctor; a document of another space (one the doctor may read there)
    assert not_found(read(doctor, ALICE.id, ids[MASKED])) == nowhere
    assert not_found(read(doctor, ALICE.id, carols)) == nowhere
    assert read(doctor, CAROL.id, carols).status_code == 200
    # held from the patient until its announcement
    assert not_found(read(alice, ALICE.id, ids[HELD])) == not_found(
        read(alice, ALICE.id, str(uuid.uuid4()))
    )
    assert nowhere["issue"][0]["details"]["coding"][0]["code"] == "unknown-document"


def test_a_deleted_document_reads_like_one_that_never_existed(
    spaces: dict[str, Caller],
) -> None:
    alice, doctor = spaces["alice"], spaces["doctor"]
    gone = ids_of(ALICE.id, alice)["Bilan A1"]
    assert alice.delete(f"/v1/spaces/{ALICE.id}/documents/{gone}").status_code == 204
    for caller in (alice, doctor):
        assert not_found(read(caller, ALICE.id, gone)) == not_found(
            read(caller, ALICE.id, str(uuid.uuid4()))
        )


def test_in_a_space_not_granted_to_the_caller_every_id_reads_alike(
    spaces: dict[str, Caller],
) -> None:
    # the doctor has no grant on Dave's space: its documents and none read the same
    doctor = spaces["doctor"]
    daves = ids_of(DAVE.id, spaces["dave"])
    outcomes = [not_found(read(doctor, DAVE.id, document_id)) for document_id in daves.values()]
    nowhere = not_found(read(doctor, DAVE.id, str(uuid.uuid4())))
    assert len(daves) == 4 and outcomes == [nowhere] * len(daves)
