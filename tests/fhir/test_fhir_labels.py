"""A FHIR update of a DocumentReference's securityLabel changes its confidentiality codes
through the JSON routes' use cases, on both backends: the same rules decide who may,
a change no command makes is a 409, anything else changed is a 422, and a refused
update records nothing (all or nothing)."""

from __future__ import annotations

from typing import Any

from coffre.bootstrap import Coffre
from domain.document_codes import CONFIDENTIALITY_CODES
from tests.api.api_helpers import ALICE, DOCTOR, Caller, events, grant_space
from tests.fhir.fhir_helpers import (
    FHIR_JSON,
    document_id_of,
    patient_query,
    provide,
    provide_bundle,
    valid,
)

PLAINTEXT = b"Compte rendu d'IRM\n" * 10


def url(patient_id: str, document_id: str) -> str:
    """The DocumentReference's FHIR URL, its space named by ``patient.identifier``."""
    return f"/fhir/DocumentReference/{document_id}?{patient_query(patient_id)}"


def label(field: str) -> dict[str, Any]:
    """The securityLabel of one confidentiality code."""
    code = CONFIDENTIALITY_CODES[field]
    return {"coding": [{"system": code.system, "code": code.code, "display": code.display}]}


def update(caller: Caller, document_id: str, *fields: str, **changed: Any) -> Any:
    """Read the resource as ``caller``, give it these codes (and ``changed``), PUT it."""
    read = caller.get(url(ALICE.id, document_id))
    assert read.status_code == 200, read.text
    resource = {**read.json(), "securityLabel": [label(f) for f in fields], **changed}
    return caller.put(
        url(ALICE.id, document_id), json=resource, headers={"Content-Type": FHIR_JSON}
    )


def codes(caller: Caller, document_id: str) -> set[str]:
    """The codes ``caller`` reads on the document (its securityLabel)."""
    read = caller.get(url(ALICE.id, document_id))
    assert read.status_code == 200, read.text
    shown = {
        one["code"] for concept in read.json().get("securityLabel", []) for one in concept["coding"]
    }
    return {field for field, code in CONFIDENTIALITY_CODES.items() if code.code in shown}


def test_the_patient_masks_and_unmasks_through_fhir_as_through_the_json_routes(
    caller: Any, hospital: Caller, alice: Caller
) -> None:
    document = document_id_of(provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT)))
    grant_space(alice, DOCTOR)
    doctor = caller(DOCTOR)
    masked = update(alice, document, "masked")
    assert masked.status_code == 200, masked.text
    assert valid(masked.json())["securityLabel"] == [label("masked")]
    assert codes(alice, document) == {"masked"}
    assert doctor.get(url(ALICE.id, document)).status_code == 404  # masked from them
    lifted = update(alice, document)
    assert lifted.status_code == 200 and "securityLabel" not in valid(lifted.json())
    assert doctor.get(url(ALICE.id, document)).status_code == 200


def test_the_author_holds_and_releases_and_the_patient_cannot(
    coffre: Coffre, hospital: Caller, alice: Caller
) -> None:
    document = document_id_of(provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT)))
    held = update(hospital, document, "invisible_to_patient")
    assert held.status_code == 200, held.text
    assert alice.get(url(ALICE.id, document)).status_code == 404
    released = update(hospital, document)
    assert released.status_code == 200
    assert codes(alice, document) == set()
    # a released document is not held again: no command does that
    before = events(coffre)
    again = update(hospital, document, "invisible_to_patient")
    assert again.status_code == 409 and valid(again.json())["issue"][0]["code"] == "conflict"
    assert events(coffre) == before


def test_a_change_no_command_makes_or_a_refused_one_records_nothing(
    coffre: Coffre, caller: Any, hospital: Caller, alice: Caller
) -> None:
    document = document_id_of(provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT)))
    assert update(alice, document, "invisible_to_representatives").status_code == 200
    before = events(coffre)
    # one-way: invisible to the legal representatives is never lifted
    lifted = update(alice, document)
    assert lifted.status_code == 409
    # all or nothing: the mask would pass, the hold is the author's alone
    both = update(alice, document, "invisible_to_representatives", "masked", "invisible_to_patient")
    assert both.status_code == 403, both.text
    assert codes(alice, document) == {"invisible_to_representatives"}
    # a professional who may read it may not mask it (neither holder nor author)
    grant_space(alice, DOCTOR)
    before = events(coffre)
    doctor = caller(DOCTOR)
    assert update(doctor, document, "invisible_to_representatives", "masked").status_code == 403
    assert events(coffre) == before


def test_only_the_labels_change_by_an_update(
    coffre: Coffre, hospital: Caller, alice: Caller
) -> None:
    document = document_id_of(provide(hospital, provide_bundle(hospital, ALICE.id, PLAINTEXT)))
    before = events(coffre)
    described = update(alice, document, "masked", description="Autre titre")
    assert described.status_code == 422
    assert valid(described.json())["issue"][0]["expression"] == ["description"]
    other = update(alice, document, "masked", id="00000000-0000-4000-8000-000000000000")
    assert other.status_code == 422
    bad = alice.put(
        url(ALICE.id, document),
        json={
            "resourceType": "DocumentReference",
            "id": document,
            "securityLabel": [label("masked")] * 4,
        },
    )
    assert bad.status_code == 422
    assert codes(alice, document) == set()
    assert events(coffre) == before
