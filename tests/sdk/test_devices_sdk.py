"""The SDK's device calls against the real app: add, approve (code, device, service),
list, revoke, and reads that name the device."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from tests.devices import ENROLMENT
from tests.sdk.conftest import BASE_URL, DOCTOR, HOSPITAL, PATIENT
from wire.errors import DeviceNotApproved, DeviceRevoked, IntegrityFailure, InvalidKey, Refused

Connect = Callable[..., CoffreClient]


def test_a_person_enrols_then_approves_a_second_device_from_the_first(
    connect: Connect, space: str
) -> None:
    document_id, _ = connect(HOSPITAL).deposit(
        space, b"bilan", type="lab_result", title="Bilan", date=date.today()
    )
    laptop, phone = connect(PATIENT), connect(PATIENT)
    code = connect(ENROLMENT).issue_enrolment_code("patient", PATIENT.id)
    first = laptop.enrol_device("laptop", code)
    assert (first.status, first.method, first.key_id) == (
        "approved",
        "code",
        laptop.reader_key.key_id,
    )

    pending = phone.add_device("phone")
    with pytest.raises(DeviceNotApproved) as refused:
        phone.read(space, document_id, io.BytesIO())
    assert refused.value.rule == "device_not_approved"
    approved = laptop.approve_device(pending.key_id)  # the laptop signs the phone's keys
    assert (approved.status, approved.method, approved.approver) == (
        "approved", "device", first.key_id,
    )  # fmt: skip
    sink = io.BytesIO()
    phone.read(space, document_id, sink)
    assert sink.getvalue() == b"bilan"

    laptop.revoke_device(pending.key_id)  # the phone is lost
    assert {d.key_id: d.status for d in laptop.devices()} == {
        first.key_id: "approved",
        pending.key_id: "revoked",
    }
    with pytest.raises(DeviceRevoked):
        phone.read(space, document_id, io.BytesIO())


def test_a_pending_device_cannot_approve_another(connect: Connect, space: str) -> None:
    one, two = connect(DOCTOR), connect(DOCTOR)
    one.add_device("one")
    pending = two.add_device("two")
    with pytest.raises(Refused) as refused:
        one.approve_device(pending.key_id)
    assert refused.value.rule == "bad_approval"


def test_an_enrolment_service_manages_a_professionals_devices(connect: Connect) -> None:
    doctor, enrolment = connect(DOCTOR), connect(ENROLMENT)
    pending = doctor.add_device("cabinet")
    assert [d.status for d in enrolment.member_devices("professional", DOCTOR.id)] == ["pending"]
    approved = enrolment.approve_member_device("professional", DOCTOR.id, pending.key_id)
    assert approved.method == "service" and approved.approver == ENROLMENT.id
    enrolment.revoke_member_device("professional", DOCTOR.id, pending.key_id)
    assert [d.status for d in doctor.devices()] == ["revoked"]


def test_a_client_without_a_signing_key_cannot_add_a_device(connect: Connect) -> None:
    client = connect(PATIENT)
    client.reader_key = ReaderKey.legacy(bytes(32 * [5]))
    with pytest.raises(InvalidKey, match="legacy"):
        client.add_device("old")


def test_the_sdk_signs_only_the_keys_of_the_key_id_it_approves() -> None:
    # A server that swaps a pending device's keys in the list gets no signature.
    approver, shown, swapped = ReaderKey.generate(), ReaderKey.generate(), ReaderKey.generate()
    listed = {
        "role": "patient",
        "id": PATIENT.id,
        "devices": [
            {
                "key_id": shown.key_id,
                "name": "phone",
                "status": "pending",
                "public_key": swapped.public_key_b64,
                "signing_key": swapped.signing_key_b64,
                "requested_at": "2026-11-02T09:00:00+00:00",
            }
        ],
    }
    posted: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200, json=listed)

    transport = httpx.MockTransport(server)
    client = CoffreClient(BASE_URL, "tok", reader_key=approver, transport=transport)
    with client, pytest.raises(IntegrityFailure):
        client.approve_device(shown.key_id)
    assert [r.method for r in posted] == ["GET"]  # nothing was signed nor sent
