"""ITI-81 AuditEvent search: the patient's own log and the regulator's trail, as BALP
AuditEvents that validate, with the same events as the JSON access log and trail."""

from __future__ import annotations

from typing import Any

from coffre.bootstrap import Coffre
from projections.runner import wait_for
from tests.api.api_helpers import ALICE, AUDITOR, DOCTOR, Caller
from tests.fhir.fhir_helpers import patient_query, provide, provide_bundle, valid

PATIENT_READ = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"


def history(caller: Any, hospital: Caller, alice: Caller) -> None:
    """A deposit, one held for an announcement, a read by the patient, a refused read."""
    provide(hospital, provide_bundle(hospital, ALICE.id, b"bilan", source="a"))
    held = provide_bundle(hospital, ALICE.id, b"annonce", source="b", title="Annonce")
    held["entry"][1]["resource"]["securityLabel"] = [{"coding": [{"code": "INVISIBLE_PATIENT"}]}]
    provide(hospital, held)
    found = valid(alice.get(f"/fhir/DocumentReference?{patient_query(ALICE.id)}").json())
    url = found["entry"][0]["resource"]["content"][0]["attachment"]["url"]
    key = alice.register_reader()
    assert alice.get(url, headers={"X-Coffre-Reader-Key": key}).status_code == 200
    doctor = caller(DOCTOR)
    refused = doctor.get(url, headers={"X-Coffre-Reader-Key": doctor.register_reader()})
    assert refused.status_code == 404


def every_page(caller: Caller, url: str) -> list[dict[str, Any]]:
    """The AuditEvents of every page of a search, following ``next`` links."""
    events: list[dict[str, Any]] = []
    while url:
        page = valid(caller.get(url).json())
        events += [entry["resource"] for entry in page.get("entry", [])]
        url = next((x["url"] for x in page["link"] if x["relation"] == "next"), "")
    return events


def test_the_patients_audit_events_are_their_access_log(
    coffre: Coffre, caller: Any, hospital: Caller, alice: Caller
) -> None:
    history(caller, hospital, alice)
    wait_for(coffre.runner)
    log = alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"limit": 200}).json()
    events = every_page(alice, f"/fhir/AuditEvent?patient={ALICE.id}&_count=2")
    assert len(events) == len(log["entries"]) > 3
    assert len({event["id"] for event in events}) == len(events)
    reads = [e for e in events if e["type"]["code"] == "110110"]
    assert {e["outcome"] for e in reads} == {"0", "8"}
    assert any(PATIENT_READ in e.get("meta", {}).get("profile", []) for e in reads)
    # the document held for an announcement is in no entry the patient gets
    names = [entity.get("name") for e in events for entity in e.get("entity", [])]
    assert "Annonce" not in names and "Bilan sanguin" in names
    # a window before everything: nothing
    assert every_page(alice, f"/fhir/AuditEvent?patient={ALICE.id}&date=lt2000-01-01") == []


def test_the_regulators_audit_events_are_the_trails(
    coffre: Coffre, caller: Any, hospital: Caller, alice: Caller
) -> None:
    history(caller, hospital, alice)
    wait_for(coffre.runner)
    regulator = caller(AUDITOR)
    answer = regulator.get(f"/fhir/AuditEvent?{patient_query(ALICE.id).replace('.identifier', '')}")
    assert answer.status_code == 200, answer.text
    bundle = valid(answer.json())
    export = regulator.get(
        "/v1/trail/export", params={"patient_id": ALICE.id, "format": "fhir"}
    ).json()
    trail = [
        e["resource"] for e in export["entry"] if e["resource"]["resourceType"] == "AuditEvent"
    ]
    assert bundle["total"] == len(trail) == len(bundle["entry"])
    assert [e["resource"]["id"] for e in bundle["entry"]] == [e["id"] for e in trail]
    assert any(
        PATIENT_READ in e["resource"].get("meta", {}).get("profile", []) for e in bundle["entry"]
    )
    paged = every_page(regulator, f"/fhir/AuditEvent?patient={ALICE.id}&_count=3")
    assert [e["id"] for e in paged] == [e["id"] for e in trail]


def test_a_professional_gets_no_audit_events(caller: Any, alice: Caller) -> None:
    answer = caller(DOCTOR).get(f"/fhir/AuditEvent?patient={ALICE.id}")
    assert answer.status_code == 403
    assert valid(answer.json())["issue"][0]["code"] == "forbidden"
