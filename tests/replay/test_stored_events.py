"""Events recorded by earlier code keep replaying: a committed store, opened by today's code.

``stores/0ff1b93`` was recorded by ``tests/replay/make_store.py`` on commit 0ff1b93,
before the space was cut by concept; its ``expected.json`` holds what that code derived
from the history. Every event type of a space is in it, as stored then (topics
``domain.space:Space.<Event>``); if a class moves or is renamed, its old topic must stay
registered, and these facts must come out the same.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from fastapi.testclient import TestClient

from api.app import create_app
from coffre.bootstrap import Coffre
from domain.access import Access
from domain.devices import DeviceStatus
from domain.inbox import Inbox
from domain.reader import Reader
from domain.space import Space
from projections.runner import wait_for
from tests.replay import make_store
from wire.errors import DeviceNotApproved

STORE = Path(__file__).parent / "stores" / "0ff1b93"


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    """The facts the code of 0ff1b93 derived from the stored history."""
    return json.loads((STORE / "expected.json").read_text())


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Application:
    """Today's code on a copy of the committed store (opening it never changes it)."""
    copy = tmp_path_factory.mktemp("replay") / "coffre.db"
    shutil.copyfile(STORE / "coffre.db", copy)
    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(copy)}
    )


def test_the_store_holds_every_event_type_of_a_space(expected: dict[str, Any]) -> None:
    stored = {topic.rsplit(".", 1)[1] for topic in expected["topics"] if ":Space." in topic}
    assert len(stored) == 33
    # the names the store was written with, whatever today's classes are called
    assert {"RepresentativeAdded", "HeldForAnnouncement", "HiddenFromRepresentatives"} <= stored


@pytest.mark.parametrize("name", ["a", "b", "c", "d"])
def test_every_space_replays_to_the_same_facts(
    app: Application, expected: dict[str, Any], name: str
) -> None:
    want = expected["spaces"][name]
    space = app.repository.get(UUID(want["id"]))
    assert isinstance(space, Space)
    got = make_store.facts(space)
    for key in (
        "patient_id",
        "version",
        "status",
        "key_id",
        "blocked",
        "attending_physician",
        "settings",
        "emergency_accesses",
        "documents",
        "grants",
        "representatives",
    ):
        assert got[key] == want[key], key
    assert got["decisions"] == want["decisions"]


def test_access_records_readers_and_inboxes_replay(
    app: Application, expected: dict[str, Any]
) -> None:
    for record in expected["access"].values():
        assert isinstance(app.repository.get(UUID(record)), Access)
    reader = app.repository.get(UUID(expected["reader"]["id"]))
    assert isinstance(reader, Reader)
    # A key registered on a token alone, before devices: a legacy key, listed and
    # revocable, never usable (tests/scenarios/test_devices.py plays the rest).
    key_id = expected["reader"]["key_id"]
    assert list(reader.devices) == [key_id]
    assert reader.devices[key_id].status is DeviceStatus.LEGACY
    with pytest.raises(DeviceNotApproved):
        reader.usable_key(key_id)
    inbox = app.repository.get(UUID(expected["inbox"]["id"]))
    assert isinstance(inbox, Inbox)
    assert inbox.up_to == expected["inbox"]["up_to"]


def test_appointments_recorded_in_clear_are_shown_as_they_were(
    app: Application, coffre: Coffre, expected: dict[str, Any]
) -> None:
    """Names and acts are sealed since; the appointments of 0ff1b93 hold them in clear
    (a ``RepresentativeAppointed`` with its act, a ``RepresentativeAdded`` without).
    Space a's events, copied byte for byte into today's Coffre (both backends), replay
    and are shown exactly as then, where the patient sees them: the list of
    representatives, the access log's lines and the notifications."""
    space_id = UUID(expected["spaces"]["a"]["id"])
    coffre.vault.recorder.insert_events(app.recorder.select_events(space_id))
    patient, parent, guardian = make_store.PATIENT_A, make_store.PARENT, make_store.GUARDIAN
    space = coffre.vault.repository.get(space_id)
    assert {r.representative.id: r.name for r in space.representatives.values()} == {
        parent.id: parent.name,
        guardian.id: guardian.name,
    }
    wait_for(coffre.runner)
    # What the code of that day wrote in the views, opened for the patient unchanged.
    act = {"act": "birth_registration", "reference": "AN-2014-0117", "date": "2014-01-20"}
    until = "2032-01-16T23:00:00+00:00"
    as_then = [
        {
            "representative": parent.to_dict(),
            "kind": "parent",
            "until": until,
            "basis": act,
            "appointment": "parent, birth registration AN-2014-0117 of 2014-01-20",
        },
        {"representative": guardian.to_dict(), "kind": "guardian", "until": None},
    ]
    log_space = coffre.vault.authorise_log(patient.id, patient)
    rows = coffre.access_log.page(log_space, limit=500).entries
    assert [r["detail"] for r in reversed(rows) if r["action"] == "add_representative"] == as_then
    notices = coffre.notifications.page("patient", patient.id).notifications
    told_then = {
        "representative": parent.to_dict(),
        "kind": "parent",
        "basis": act,
        "until": "2032-01-16 23:00:00+00:00",
    }
    assert [n["detail"] for n in notices if n["kind"] == "representative_appointed"] == [told_then]
    with TestClient(create_app(coffre)) as client:
        token = coffre.tokens.mint(patient, timedelta(minutes=5))
        headers = {"Authorization": f"Bearer {token}"}
        rules = client.get(f"/v1/spaces/{patient.id}/access-rules", headers=headers).json()
        log = client.get(
            f"/v1/spaces/{patient.id}/access-log?action=add_representative", headers=headers
        ).json()
        told = client.get("/v1/notifications", headers=headers).json()
    assert {r["id"]: r["name"] for r in rules["representatives"]} == {
        parent.id: parent.name,
        guardian.id: guardian.name,
    }
    assert [entry["detail"] for entry in reversed(log["entries"])] == as_then
    shown = [n["detail"] for n in told["notifications"] if n["kind"] == "representative_appointed"]
    assert shown == [told_then]
