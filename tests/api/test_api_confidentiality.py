"""The deposit route carries a document's confidentiality codes (RULES.md rules 5-7)."""

from __future__ import annotations

from typing import Any

from tests.api.api_helpers import ALICE, DOCTOR


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
