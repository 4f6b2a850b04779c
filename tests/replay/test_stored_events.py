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
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application

from domain.access import Access
from domain.devices import DeviceStatus
from domain.inbox import Inbox
from domain.reader import Reader
from domain.space import Space
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
