"""Notifications: what a patient (and an attending physician) is told, on both backends."""

from __future__ import annotations

from coffre.bootstrap import Coffre
from domain.values import Scope
from projections.notifications import Notifications
from projections.runner import wait_for
from tests.replay.views import rebuilt, snapshot
from tests.scenarios.conftest import Cast, deposit, read


def inbox(
    coffre: Coffre, cast: Cast, role: str, actor_id: str, **kwargs: object
) -> tuple[list[str], int]:
    """What ``actor_id`` was told since the cast was ready (the notices of the cast's
    own device enrolment are ``tests/scenarios/test_devices.py``'s), and how much of
    it is unread."""
    wait_for(coffre.runner)
    page = Notifications(coffre.views).page(role, actor_id, **kwargs)  # type: ignore[arg-type]
    told = [n for n in page.notifications if n["position"] > cast.ready_at]
    return [n["kind"] for n in told], sum(not n["read"] for n in told)


def test_a_new_document_and_a_new_reader_are_notified_once(coffre: Coffre, cast: Cast) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, b"report", cast.hospital)
    coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    read(coffre, patient.id, document_id, cast.doctor)
    read(coffre, patient.id, document_id, cast.doctor)  # the same doctor again: no news
    read(coffre, patient.id, document_id, cast.patient)  # the patient's own read: no news
    kinds, unread = inbox(coffre, cast, "patient", patient.id)
    assert kinds == ["new_professional", "new_document"] and unread == 2


def test_acknowledged_notifications_stay_read_after_a_rebuild(coffre: Coffre, cast: Cast) -> None:
    patient = cast.patient.actor
    deposit(coffre, patient.id, b"one", cast.hospital)
    wait_for(coffre.runner)
    page = Notifications(coffre.views).page("patient", patient.id)
    coffre.vault.acknowledge_notifications(patient, page.notifications[0]["position"])
    deposit(coffre, patient.id, b"two", cast.hospital)
    assert inbox(coffre, cast, "patient", patient.id) == (["new_document", "new_document"], 1)
    assert inbox(coffre, cast, "patient", patient.id, unread_only=True)[0] == ["new_document"]
    before = snapshot(coffre.runner)
    assert rebuilt(coffre.runner) == before
    assert inbox(coffre, cast, "patient", patient.id)[1] == 1


def test_an_emergency_access_notifies_the_patient_and_the_attending_physician(
    coffre: Coffre, cast: Cast
) -> None:
    patient = cast.patient.actor
    coffre.vault.designate_attending_physician(patient.id, cast.doctor.actor, patient)
    coffre.vault.invoke_emergency_access(
        patient.id, "unconscious, brought in by SAMU", cast.stranger.actor
    )
    assert inbox(coffre, cast, "patient", patient.id)[0] == ["emergency_access"]
    assert inbox(coffre, cast, "professional", cast.doctor.actor.id)[0] == ["emergency_access"]
    # Nobody else hears of it.
    assert inbox(coffre, cast, "professional", cast.nurse.actor.id)[0] == []
