"""The rules of a space through the SDK (vault.client_rules), against the app in process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import BytesIO

import pytest

from domain.errors import Refused, UnknownDocument
from tests.sdk.conftest import DOCTOR, HOSPITAL, PATIENT, STRANGER
from vault.client import CoffreClient

Connect = Callable[..., CoffreClient]
DOCTOR_INFO = {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}


def _deposit(connect: Connect, space: str) -> str:
    doc, _ = connect(HOSPITAL).deposit(
        space, b"bilan", type="lab_result", title="Bilan", date=date(2026, 1, 2)
    )
    return str(doc)


def test_mask_hides_a_document_from_a_granted_doctor(connect: Connect, space: str) -> None:
    document_id = _deposit(connect, space)
    patient, doctor = connect(PATIENT), connect(DOCTOR)
    patient.grant(space, DOCTOR_INFO)
    doctor.register_reader_key()
    patient.mask(space, document_id)
    with pytest.raises(UnknownDocument):
        doctor.read(space, document_id, BytesIO())
    patient.unmask(space, document_id)
    doctor.read(space, document_id, BytesIO())


def test_block_setting_physician_and_access_rules(connect: Connect, space: str) -> None:
    patient = connect(PATIENT)
    patient.block(space, DOCTOR_INFO)
    assert [b["id"] for b in patient.access_rules(space)["blocked"]] == [DOCTOR.id]
    patient.unblock(space, DOCTOR.id)
    patient.designate_attending_physician(space, DOCTOR_INFO)
    patient.change_setting(space, "attending_physician_sees_masked", True)
    rules = patient.access_rules(space)
    assert rules["blocked"] == []
    assert rules["attending_physician"]["id"] == DOCTOR.id
    assert rules["settings"]["attending_physician_sees_masked"] is True
    patient.designate_attending_physician(space, None)
    assert patient.access_rules(space)["attending_physician"] is None


def test_emergency_access_then_forbidden(connect: Connect, space: str) -> None:
    declared = connect(DOCTOR).invoke_emergency_access(space, "Patiente inconsciente aux urgences")
    assert declared["access_id"] and declared["expires_at"]
    connect(PATIENT).change_setting(space, "emergency_access_forbidden", True)
    with pytest.raises(Refused):
        connect(STRANGER).invoke_emergency_access(space, "Patiente inconsciente aux urgences")


def test_notifications_list_and_acknowledge(connect: Connect, space: str) -> None:
    _deposit(connect, space)
    patient = connect(PATIENT)
    page = patient.notifications(unread=True)
    assert page["unread"] >= 1 and page["notifications"]
    newest = page["notifications"][0]["position"]
    assert patient.acknowledge_notifications(newest) == newest
    assert patient.notifications()["unread"] == 0


def test_space_life_close_then_request_deletion(connect: Connect, space: str) -> None:
    patient = connect(PATIENT)
    assert patient.space_state(space)["status"] == "open"
    assert patient.close_space(space)["status"] == "closed"
    after = patient.request_deletion(space)
    assert after["patient_id"] == space and after["status"] in {"closed", "deleted"}
