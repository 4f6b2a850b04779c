"""Who may read a space as FHIR Consents: the access rules' use case, read-only."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.api.api_helpers import ALICE, DOCTOR, NURSE, Caller, grant_space
from tests.fhir.fhir_helpers import patient_query, valid
from wire.trail_fhir import RPPS


def consents(caller: Caller, extra: str = "") -> Any:
    """A Consent search of Alice's space (the raw response)."""
    return caller.get(f"/fhir/Consent?{patient_query(ALICE.id)}{extra}")


def test_grants_blocks_and_the_emergency_setting_are_consents(caller: Any, alice: Caller) -> None:
    grant_space(alice, DOCTOR)
    blocked = alice.client.put(
        f"/v1/spaces/{ALICE.id}/blocks",
        headers=alice.headers,
        json={"id": NURSE.id, "name": NURSE.name, "profession": "nurse"},
    )
    assert blocked.status_code == 204, blocked.text
    setting = alice.client.put(
        f"/v1/spaces/{ALICE.id}/settings/emergency_access_forbidden",
        headers=alice.headers,
        json={"value": True},
    )
    assert setting.status_code == 204, setting.text
    answer = consents(alice)
    assert answer.status_code == 200, answer.text
    bundle = valid(answer.json())
    found = [entry["resource"] for entry in bundle["entry"]]
    assert bundle["total"] == len(found) == 3
    kinds = {(c["provision"]["type"], c["policyRule"]["coding"][0]["code"]) for c in found}
    assert kinds == {("permit", "OPTIN"), ("deny", "OPTOUT")}
    emergency = [c for c in found if "purpose" in c["provision"]]
    assert emergency[0]["provision"]["type"] == "deny"
    # by actor: only the Consent naming the doctor
    mine = valid(consents(alice, "&actor=" + quote(f"{RPPS}|{DOCTOR.id}")).json())
    assert [
        c["resource"]["provision"]["actor"][0]["reference"]["identifier"]["value"]
        for c in mine["entry"]
    ] == [DOCTOR.id]


def test_only_the_holder_reads_the_consents(caller: Any, alice: Caller) -> None:
    answer = consents(caller(DOCTOR))
    assert answer.status_code == 403
    assert valid(answer.json())["issue"][0]["code"] == "forbidden"
