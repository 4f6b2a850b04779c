"""Issue 9, item 6: a FHIR export is verified as strictly as the JSON Lines one.

Every AuditEvent must be exactly what ``wire.trail_fhir`` renders from its signed
entry: editing a read's agent, outcome, recorded time, type or entity fails, naming the
leaf; on both backends.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from client.trail_verify import TrailVerificationError, verify_fhir
from coffre.bootstrap import Coffre
from domain.space import SPACE_NAMESPACE, Space
from keys.checkpoint import CheckpointSigner
from projections.runner import ProjectionRunner
from projections.trail_query import Trail, TrailQuery
from tests.scenarios.conftest import Cast
from tests.trail.scenario import live_history
from vault.clock import ManualClock
from wire.trail_fhir import SPACE_NAMESPACE as FHIR_SPACE_NAMESPACE
from wire.trail_fhir import space_of_patient

Edit = Callable[[dict[str, Any]], None]


def _set(*path: Any, value: Any) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        target = event
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _drop(*path: Any) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        target = event
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


EDITS: dict[str, Edit] = {
    "agent": _set("agent", 0, "who", "identifier", "value", value="10000000025"),
    "agent-name": _set("agent", 0, "name", value="Dr Someone Else"),
    "outcome": _set("outcome", value="0"),
    "recorded": _set("recorded", value="2020-01-01T00:00:00.000000Z"),
    "type": _set("type", "code", value="110113"),
    "subtype": _set("subtype", 0, "code", value="update"),
    "action": _set("action", value="C"),
    "entity-patient": _set("entity", 0, "what", "identifier", "value", value="185057512345673"),
    "entity-document": _set("entity", 1, "what", "identifier", "value", value="urn:uuid:0"),
    "entity-dropped": _drop("entity"),
    "outcome-description": _drop("outcomeDesc"),
    "extra-field": _set("purposeOfEvent", value=[{"text": "care"}]),
}


@pytest.fixture
def bundle(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner, trail: Trail
) -> dict[str, Any]:
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    return trail.export_fhir(TrailQuery(patient_id=cast.patient.actor.id))


def _refused_read(bundle: dict[str, Any]) -> dict[str, Any]:
    for item in bundle["entry"]:
        resource = item["resource"]
        if resource["resourceType"] == "AuditEvent" and resource["outcome"] == "8":
            return resource
    raise AssertionError("the history has a refused read")


@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_edited_audit_event_fails_naming_its_leaf(
    bundle: dict[str, Any], signer: CheckpointSigner, name: str
) -> None:
    assert verify_fhir(bundle, signer.public_key).entries > 0
    tampered = copy.deepcopy(bundle)
    event = _refused_read(tampered)
    EDITS[name](event)
    with pytest.raises(TrailVerificationError) as info:
        verify_fhir(tampered, signer.public_key)
    assert info.value.check == "fhir"
    assert f"AuditEvent of leaf {event['id'].removeprefix('leaf-')}" in str(info.value)


def test_moved_dropped_or_forged_audit_events_and_provenance_fail(
    bundle: dict[str, Any], signer: CheckpointSigner
) -> None:
    key = signer.public_key
    cases: list[dict[str, Any]] = []
    swapped = copy.deepcopy(bundle)
    swapped["entry"][2], swapped["entry"][3] = swapped["entry"][3], swapped["entry"][2]
    cases.append(swapped)
    dropped = copy.deepcopy(bundle)
    del dropped["entry"][-1]
    cases.append(dropped)
    forged = copy.deepcopy(bundle)
    forged["entry"].append(copy.deepcopy(forged["entry"][-1]))
    cases.append(forged)
    provenance = copy.deepcopy(bundle)
    provenance["entry"][1]["resource"]["target"].pop()
    cases.append(provenance)
    not_a_list = {**bundle, "entry": {"resource": bundle["entry"][0]["resource"]}}
    cases.append(not_a_list)
    for case in cases:
        with pytest.raises(TrailVerificationError):
            verify_fhir(case, key)
    # The Bundle's own time is the one field not derived from the export.
    retimed = copy.deepcopy(bundle)
    retimed["timestamp"] = retimed["entry"][1]["resource"]["recorded"] = "2030-01-01T00:00:00Z"
    verify_fhir(retimed, key)


def test_the_verifier_derives_space_ids_as_the_domain_does(cast: Cast) -> None:
    assert FHIR_SPACE_NAMESPACE == SPACE_NAMESPACE
    assert space_of_patient(cast.patient.actor.id) == Space.create_id(cast.patient.actor.id)
