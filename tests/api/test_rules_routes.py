"""The rules' routes through the real app: each translates HTTP into one vault call.

The embedded Coffre here runs on a manual clock (the opposition period must pass), with
RULES.md's durations pinned; the rules themselves are tested in ``tests/rules``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import DOCTOR, NURSE, Caller

from coffre.bootstrap import Coffre, build
from domain.values import Actor, patient_id_from_number
from vault.clock import ManualClock
from vault.settings import DEMO_REGISTRY, Settings
from wire.values import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MINOR = Actor(Role.PATIENT, patient_id_from_number("2100575123457"), "Léa Martin")
MOTHER = Actor(Role.REPRESENTATIVE, patient_id_from_number("2800575123458"), "Anne Martin")
REGISTRY = Actor(Role.SERVICE, DEMO_REGISTRY, "Registre d'état civil")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def coffre(tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """An embedded Coffre on a manual clock, with the law's durations."""
    settings = Settings(
        data_dir=tmp_path / "data",
        opposition_period=timedelta(weeks=6),
        express_deletion_delay=timedelta(0),
        emergency_access_duration=timedelta(hours=24),
    )
    built = build(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def register(caller: Any) -> dict[str, Any]:
    """The registry's register: a minor with their mother; returns the new space.

    A register that names representatives comes from an authorised registry service
    (the embedded default authorises the demo's)."""
    hospital = caller(REGISTRY)
    body = {
        "entries": [
            {
                "patient_id": MINOR.id,
                "birth_date": date(2010, 5, 1).isoformat(),
                "representatives": [{"id": MOTHER.id, "name": MOTHER.name, "kind": "parent"}],
            }
        ]
    }
    answer = hospital.post("/v1/spaces/register", json=body)
    assert answer.status_code == 200, answer.text
    (space,) = answer.json()["provisioned"]
    again = hospital.post("/v1/spaces/register", json=body).json()
    assert again == {"provisioned": [], "already_provisioned": [MINOR.id]}
    return space  # type: ignore[no-any-return]


def test_register_oppose_and_state(caller: Any, register: dict[str, Any]) -> None:
    mother, minor = caller(MOTHER), caller(MINOR)
    assert register["one_time_code"] and register["opens_at"]
    state = minor.get(f"/v1/spaces/{MINOR.id}/state").json()
    assert state["status"] == "pending"
    wrong = mother.post(f"/v1/spaces/{MINOR.id}/opposition", json={"code": "WRONG-CODE0"})
    assert wrong.status_code == 403 and wrong.json()["type"].endswith("/refused")
    ok = mother.post(f"/v1/spaces/{MINOR.id}/opposition", json={"code": register["one_time_code"]})
    assert ok.status_code == 204
    assert minor.get(f"/v1/spaces/{MINOR.id}/state").json()["status"] == "opposed"
    assert caller(DOCTOR).get(f"/v1/spaces/{MINOR.id}/state").status_code == 403


def test_activation_closure_and_reopening(
    caller: Any, hospital: Caller, register: dict[str, Any], clock: ManualClock
) -> None:
    minor = caller(MINOR)
    clock.advance(timedelta(weeks=6))
    answer = minor.post(
        f"/v1/spaces/{MINOR.id}/activation", json={"code": register["one_time_code"]}
    )
    assert answer.status_code == 204, answer.text
    document = hospital.deposit(MINOR.id)
    closed = minor.post(f"/v1/spaces/{MINOR.id}/closure", json={"express_deletion": False})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert minor.read(MINOR.id, document["document_id"]).status_code == 404
    reopened = hospital.post(f"/v1/spaces/{MINOR.id}/reopening")
    assert reopened.status_code == 201 and reopened.json()["reimported"] is True
    assert minor.read(MINOR.id, document["document_id"]).status_code == 200
    assert hospital.post(f"/v1/spaces/{MINOR.id}/codes").status_code == 201
    minor.post(f"/v1/spaces/{MINOR.id}/closure", json={"express_deletion": True})
    assert minor.get(f"/v1/spaces/{MINOR.id}/state").json()["status"] == "deleted"


def test_masks_blocks_settings_and_access_rules(
    caller: Any, hospital: Caller, register: dict[str, Any], clock: ManualClock
) -> None:
    minor, mother, doctor = caller(MINOR), caller(MOTHER), caller(DOCTOR)
    clock.advance(timedelta(weeks=6))
    document_id = hospital.deposit(MINOR.id)["document_id"]
    grantee = {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}
    granted = mother.post(
        f"/v1/spaces/{MINOR.id}/grants", json={"grantee": grantee, "scope": {"kind": "space"}}
    )
    assert granted.status_code in (201, 403)  # the grants route admits patients only, today
    team = hospital.post(f"/v1/spaces/{MINOR.id}/care-team", json={"professional": grantee})
    assert team.status_code == 201
    assert doctor.read(MINOR.id, document_id).status_code == 200
    url = f"/v1/spaces/{MINOR.id}/documents/{document_id}"
    assert mother.client.put(f"{url}/mask", headers=mother.headers).status_code == 204
    assert doctor.read(MINOR.id, document_id).status_code == 404
    assert minor.delete(f"{url}/mask").status_code == 204
    assert doctor.read(MINOR.id, document_id).status_code == 200
    block = minor.client.put(f"/v1/spaces/{MINOR.id}/blocks", json=grantee, headers=minor.headers)
    assert block.status_code == 204
    assert doctor.read(MINOR.id, document_id).status_code == 404
    assert minor.delete(f"/v1/spaces/{MINOR.id}/blocks/{DOCTOR.id}").status_code == 204
    setting = minor.client.put(
        f"/v1/spaces/{MINOR.id}/settings/emergency_access_forbidden",
        json={"value": True},
        headers=minor.headers,
    )
    assert setting.status_code == 204
    physician = minor.client.put(
        f"/v1/spaces/{MINOR.id}/attending-physician",
        json={"physician": grantee},
        headers=minor.headers,
    )
    assert physician.status_code == 204
    rules = mother.get(f"/v1/spaces/{MINOR.id}/access-rules").json()
    assert [(g["grantee_id"], g["basis"]) for g in rules["grants"]][-1] == (DOCTOR.id, "care_team")
    assert rules["settings"]["emergency_access_forbidden"] is True
    assert rules["attending_physician"]["id"] == DOCTOR.id
    assert [r["kind"] for r in rules["representatives"]] == ["parent"]
    # A document the caller may not see answers like one that does not exist.
    secret = hospital.client.put(f"{url}/invisible-to-representatives", headers=hospital.headers)
    assert secret.status_code == 204
    assert mother.client.put(f"{url}/mask", headers=mother.headers).status_code == 404


@pytest.mark.parametrize("old", [False, True], ids=["documented-path", "old-path"])
def test_each_confidentiality_code_has_one_path_and_the_old_paths_still_work(
    caller: Any, hospital: Caller, register: dict[str, Any], clock: ManualClock, old: bool
) -> None:
    minor, mother = caller(MINOR), caller(MOTHER)
    clock.advance(timedelta(weeks=6))
    hidden = hospital.deposit(MINOR.id)["document_id"]
    held = hospital.deposit(MINOR.id, invisible_to_patient=True)["document_id"]
    assert mother.read(MINOR.id, hidden).status_code == 200
    assert minor.read(MINOR.id, held).status_code == 404
    url = f"/v1/spaces/{MINOR.id}/documents"
    # invisible_to_representatives: PUT .../invisible-to-representatives (old: .../secret-...)
    path = "secret-from-representatives" if old else "invisible-to-representatives"
    put = hospital.client.put(f"{url}/{hidden}/{path}", headers=hospital.headers)
    assert put.status_code == 204, put.text
    assert mother.read(MINOR.id, hidden).status_code == 404
    assert minor.read(MINOR.id, hidden).status_code == 200
    # invisible_to_patient, released: DELETE .../invisible-to-patient (old: POST .../release)
    release = (
        (lambda: hospital.post(f"{url}/{held}/release"))
        if old
        else (lambda: hospital.delete(f"{url}/{held}/invisible-to-patient"))
    )
    assert release().status_code == 204
    assert minor.read(MINOR.id, held).status_code == 200
    again = release()
    assert again.status_code == 409 and again.json()["type"].endswith("/conflict")


def test_the_openapi_document_names_each_code_once_and_marks_the_old_paths_deprecated(
    hospital: Caller,
) -> None:
    paths = hospital.client.get("/openapi.json").json()["paths"]
    document = "/v1/spaces/{patient_id}/documents/{document_id}"
    documented = {
        (f"{document}/mask", "put"): "masks-mask",
        (f"{document}/mask", "delete"): "masks-unmask",
        (f"{document}/invisible-to-representatives", "put"): "masks-hide_from_representatives",
        (f"{document}/invisible-to-patient", "delete"): "masks-release_to_patient",
    }
    for (path, method), operation_id in documented.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert not operation.get("deprecated", False)
    old = {
        (f"{document}/secret-from-representatives", "put"),
        (f"{document}/release", "post"),
    }
    for path, method in old:
        assert set(paths[path]) == {method}
        assert paths[path][method]["deprecated"] is True
    # no other path names a code another way
    named = {path for path in paths if path.startswith(document + "/")} - {
        f"{document}/reads",
        f"{document}/readers",
    }
    assert named == {path for path, _ in documented} | {path for path, _ in old}


def test_emergency_access_and_representatives(
    caller: Any, hospital: Caller, register: dict[str, Any], clock: ManualClock
) -> None:
    minor, nurse = caller(MINOR), caller(NURSE)
    clock.advance(timedelta(weeks=6))
    document_id = hospital.deposit(MINOR.id)["document_id"]
    url = f"/v1/spaces/{MINOR.id}/emergency-accesses"
    short = nurse.post(url, json={"justification": "vite"})
    assert short.status_code == 422
    declared = nurse.post(url, json={"justification": "Enfant inconscient aux urgences"})
    assert declared.status_code == 201, declared.text
    assert declared.json()["expires_at"] == (clock.now() + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )
    assert nurse.read(MINOR.id, document_id).status_code == 200
    assert minor.post(url, json={"justification": "Enfant inconscient"}).status_code == 403
    guardian = {"id": patient_id_from_number("1700575123459"), "name": "Paul Tuteur"}
    appointment = {
        "representative": {**guardian, "kind": "guardian"},
        "basis": {"reference": "TJ Lyon RG 26/00007", "date": "2026-10-01"},
    }
    url = f"/v1/spaces/{MINOR.id}/representatives"
    # The hospital deposits here; it may not appoint a guardian (issue 9, item 2).
    assert hospital.post(url, json=appointment).status_code == 403
    registry = caller(REGISTRY)
    assert (
        registry.post(url, json={"representative": appointment["representative"]}).status_code
        == 422
    )
    added = registry.post(url, json=appointment)
    assert added.status_code == 204, added.text
    assert hospital.delete(f"{url}/{guardian['id']}").status_code == 403
    ended = registry.delete(f"{url}/{guardian['id']}")
    assert ended.status_code == 204
    again = registry.delete(f"{url}/{guardian['id']}")
    assert again.status_code == 409


def test_a_parent_lists_the_child_space_until_majority(
    caller: Any, register: dict[str, Any], clock: ManualClock
) -> None:
    """``GET /v1/me/represented-spaces``: the mother sees her child's space, pending
    (she may oppose) then open, until the child comes of age; the route is a
    representative's only."""
    mother = caller(MOTHER)

    def spaces() -> list[tuple[str, str, str]]:
        answer = mother.get("/v1/me/represented-spaces")
        assert answer.status_code == 200, answer.text
        return [(s["patient_id"], s["kind"], s["status"]) for s in answer.json()["spaces"]]

    assert spaces() == [(MINOR.id, "parent", "pending")]
    (listed,) = mother.get("/v1/me/represented-spaces").json()["spaces"]
    # majority: 18 years after the birth, from midnight in Paris
    assert listed["until"] == "2028-04-30T22:00:00Z"
    clock.advance(timedelta(weeks=6))
    assert spaces() == [(MINOR.id, "parent", "open")]
    for other in (caller(MINOR), caller(DOCTOR)):
        assert other.get("/v1/me/represented-spaces").status_code == 403
    clock.advance(datetime(2028, 5, 2, tzinfo=UTC) - clock.now())
    assert spaces() == []
