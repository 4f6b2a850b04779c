"""The deposit route carries a document's confidentiality codes (RULES.md rules 5-7)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.values import Actor, patient_id_from_number
from tests.api.api_helpers import ALICE, DOCTOR
from vault.settings import DEMO_REGISTRY
from wire.values import Role


def test_a_deposit_sets_its_codes_in_the_same_transaction(
    hospital: Any, alice: Any, doctor: Any
) -> None:
    grantee = {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}
    granted = alice.post(
        f"/v1/spaces/{ALICE.id}/grants", json={"grantee": grantee, "scope": {"kind": "space"}}
    )
    assert granted.status_code == 201, granted.text
    masked = hospital.deposit(ALICE.id, masked=True)["document_id"]
    held = hospital.deposit(ALICE.id, invisible_to_patient=True)["document_id"]
    # MASQUE_PS: the granted doctor is refused exactly like an unknown document; the patient reads.
    assert doctor.read(ALICE.id, masked).status_code == 404
    assert alice.read(ALICE.id, masked).status_code == 200
    # INVISIBLE_PATIENT: held for an announcement, the patient neither reads nor lists it.
    assert alice.read(ALICE.id, held).status_code == 404
    listed = {
        d["document_id"] for d in alice.get(f"/v1/spaces/{ALICE.id}/documents").json()["documents"]
    }
    assert held not in listed and masked in listed


GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575123459"), "Paul Tuteur")
CODES = ("masked", "invisible_to_patient", "invisible_to_representatives")


def _codes(caller: Any, patient_id: str) -> dict[str, dict[str, bool]]:
    answer = caller.get(f"/v1/spaces/{patient_id}/documents")
    assert answer.status_code == 200, answer.text
    return {d["document_id"]: {c: d[c] for c in CODES} for d in answer.json()["documents"]}


def test_the_listing_shows_each_caller_the_codes_of_what_it_lists_and_no_more(
    caller: Any, hospital: Any, alice: Any
) -> None:
    """The holder sees which codes are set (to offer mask or unmask); a code that hides
    a document from the caller never shows, because the document is not listed."""
    appointment = {
        "representative": {"id": GUARDIAN.id, "name": GUARDIAN.name, "kind": "guardian"},
        "basis": {"reference": "TJ Lyon RG 26/00007", "date": str(date.today() - timedelta(30))},
    }
    registry = caller(Actor(Role.SERVICE, DEMO_REGISTRY, "Registre"))
    appointed = registry.post(f"/v1/spaces/{ALICE.id}/representatives", json=appointment)
    assert appointed.status_code == 204, appointed.text
    plain = hospital.deposit(ALICE.id)["document_id"]
    masked = hospital.deposit(ALICE.id, masked=True)["document_id"]
    held = hospital.deposit(ALICE.id, invisible_to_patient=True)["document_id"]
    secret = hospital.deposit(ALICE.id)["document_id"]
    hidden = alice.client.put(
        f"/v1/spaces/{ALICE.id}/documents/{secret}/invisible-to-representatives",
        headers=alice.headers,
    )
    assert hidden.status_code == 204, hidden.text
    none = dict.fromkeys(CODES, False)

    assert _codes(alice, ALICE.id) == {
        plain: none,
        masked: {**none, "masked": True},
        secret: {**none, "invisible_to_representatives": True},
    }
    # the guardian acts as the patient: the held document and the one kept from them
    # are not listed, so neither code can reach them
    assert _codes(caller(GUARDIAN), ALICE.id) == {plain: none, masked: {**none, "masked": True}}
    # the author sees the codes of its own deposits, as FHIR's securityLabel says them
    assert _codes(hospital, ALICE.id)[held] == {**none, "invisible_to_patient": True}
    # a read's release names the document without its codes (as before)
    release = alice.read(ALICE.id, masked)
    assert release.status_code == 200, release.text
    assert not set(CODES) & set(release.json()["document"])
