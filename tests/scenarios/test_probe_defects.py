"""Defects an outside probe found (issue 9), on both backends: a poisoned event, bounds
that reach events, and spaces that answer like missing ones to whoever may not know them.
"""

from __future__ import annotations

import pytest

from coffre.bootstrap import Coffre
from domain.inbox import Inbox
from domain.values import Actor, patient_id_from_number
from projections.access_log import LogFilter
from tests.devices import enrol
from tests.scenarios.conftest import Cast, deposit, open_space
from vault.clock import ManualClock
from wire.errors import InvalidInput, Unavailable, UnknownSpace
from wire.values import POSITION_MAX, Role


def _poison(coffre: Coffre, actor: Actor, clock: ManualClock) -> int:
    """Record an acknowledgement no store can keep, as the code before issue 9 accepted
    it from the API; returns its notification id."""
    inbox = Inbox.for_actor(actor)
    # The command refuses it now; the event method is what older code ended up calling.
    inbox._acknowledged(up_to=10**25, actor=actor.to_dict(), at=clock.now())
    coffre.vault.save(inbox)
    return coffre.vault.recorder.max_notification_id()


def test_a_poisoned_event_stalls_its_projection_alone(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    coffre.runner.catch_up()
    other = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Petit")
    poisoned = _poison(coffre, other, clock)
    # Later events of another patient: their views must not wait on the poisoned one.
    document = deposit(coffre, cast.patient.actor.id, b"bilan", cast.hospital)

    coffre.runner.catch_up()  # no exception: the poisoned projection stalls, alone

    stalls = coffre.runner.stalls()
    assert set(stalls) == {"notifications"}
    assert stalls["notifications"].notification_id == poisoned
    assert "Acknowledged" in stalls["notifications"].error
    head = coffre.vault.recorder.max_notification_id()
    lag = coffre.runner.lag()
    assert lag["notifications"] > 0
    assert all(behind == 0 for name, behind in lag.items() if name != "notifications")
    space_id = coffre.vault.space_key(cast.patient.actor.id).space_id
    page = coffre.access_log.page(space_id, where=LogFilter(action="deposit"))
    assert [row["document_id"] for row in page.entries] == [str(document)]

    # Passes after the stall neither retry the event nor fail.
    assert coffre.runner.catch_up() == 0
    assert coffre.runner.store.position("notifications") == poisoned - 1
    # A retry meets the same event and stalls again; a rebuild says where it stopped.
    assert coffre.runner.retry("notifications") is True
    coffre.runner.catch_up()
    assert coffre.runner.stalls()["notifications"].notification_id == poisoned
    with pytest.raises(Unavailable, match=f"stalled at event {poisoned}"):
        coffre.runner.rebuild("notifications")
    assert coffre.runner.store.position("access_log") == head


def test_an_acknowledgement_past_the_newest_notification_changes_nothing(
    coffre: Coffre, cast: Cast
) -> None:
    before = coffre.vault.recorder.max_notification_id()
    for up_to in (10**25, POSITION_MAX + 1, POSITION_MAX, before + 1):
        with pytest.raises(InvalidInput):
            coffre.vault.acknowledge_notifications(cast.patient.actor, up_to)
    assert coffre.vault.recorder.max_notification_id() == before
    assert coffre.vault.acknowledge_notifications(cast.patient.actor, before) == before


def test_a_space_answers_like_a_missing_one_to_whoever_may_not_know_it(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    document = deposit(coffre, cast.patient.actor.id, b"bilan", cast.hospital)
    missing = patient_id_from_number("2920133123456")
    other = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Petit")
    open_space(coffre, clock, other.id, cast.hospital)
    regulator = Actor(Role.REGULATOR, "cnil-audit", "CNIL")
    _, key = enrol(coffre.vault, other)
    vault = coffre.vault

    for outsider in (other, regulator):
        for patient_id in (cast.patient.actor.id, missing):
            for use_case, *extra in (
                (vault.space_state,),
                (vault.space_key,),
                (vault.documents,),
                (vault.grants,),
                (vault.access_rules,),
                (vault.authorise_log,),
                (vault.activate, "AAAA-AAAA"),
                (vault.close_space,),
                (vault.mask, document),
            ):
                with pytest.raises(UnknownSpace):
                    use_case(patient_id, *extra, outsider)
    # A stranger's read is recorded for the patient to see, answered like no space.
    with pytest.raises(UnknownSpace):
        vault.read(cast.patient.actor.id, document, other, key)
    with pytest.raises(UnknownSpace):
        vault.read(missing, document, other, key)
    coffre.runner.catch_up()
    space_id = vault.space_key(cast.patient.actor.id).space_id
    refused = coffre.access_log.page(space_id, where=LogFilter(actor_id=other.id)).entries
    assert [(row["action"], row["outcome"]) for row in refused] == [("read", "refused")]
