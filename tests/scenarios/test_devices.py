"""Reader devices on both backends, through the HTTP API: the stolen-token attack.

A thief holds a valid token of the patient's (stolen from a log, a proxy, a laptop). With
it alone they can ask to add a key of their own — and prove they hold it — but not take
the step a token cannot: the enrolment code of the patient's letter, a signature by one
of her approved devices. So their key stays pending, no data key is ever sealed to it,
and the patient sees every attempt (notifications, access log). A device the owner
revokes gets nothing on its next read. Keys registered before devices existed are
legacy: listed, revocable, never used.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.app import create_app
from coffre.bootstrap import Coffre
from domain.access import Access
from domain.values import Actor, Scope
from projections.runner import wait_for
from tests.api.api_helpers import HOSPITAL, Caller
from tests.devices import ENROLMENT, register_legacy_key
from tests.scenarios.conftest import Cast, deposit
from vault.clock import ManualClock
from wire.devices import approval_message, proof_message


@pytest.fixture
def api(coffre: Coffre) -> Iterator[TestClient]:
    """The HTTP API over the scenario's Coffre (both backends)."""
    with TestClient(create_app(coffre)) as client:
        yield client


@dataclass
class People:
    """Who plays: the patient, the thief holding her token, the hospital, a doctor."""

    patient: Caller
    thief: Caller
    hospital: Caller
    doctor: Caller
    document: str  # a document of the patient's, which she read with her device

    def reads(self, who: Caller, key_id: str | None) -> Any:
        """``who`` asks for the document's key, sealed to device ``key_id``."""
        url = f"/v1/spaces/{self.patient.actor.id}/documents/{self.document}/reads"
        return who.post(url, json={"reader_key_id": key_id})


@pytest.fixture
def people(coffre: Coffre, api: TestClient, cast: Cast) -> People:
    """The patient's device is approved with her letter's code, and she read a document;
    the thief has her token and a key of their own."""
    enrolment = coffre.tokens.mint(ENROLMENT)

    def caller(actor: Actor, token: str | None = None) -> Caller:
        token = token or coffre.tokens.mint(actor)
        return Caller(api, actor, token, SigningKey.generate(), enrolment)

    patient = caller(cast.patient.actor)
    hospital = caller(HOSPITAL)
    document = hospital.deposit(patient.actor.id)["document_id"]
    answer = patient.read(patient.actor.id, document)  # adds and approves her device
    assert answer.status_code == 200 and patient.open_release(answer.json()) == b"bilan sanguin"
    thief = caller(patient.actor, patient.token)  # the very same token
    return People(patient, thief, hospital, caller(cast.doctor.actor), document)


def problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is a problem of this status and type; its body."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["type"].endswith(f"/{code}"), body
    return body


def released_to(coffre: Coffre) -> set[str]:
    """Every key id a data key was ever released to (each release follows an
    ``Access.Read``, committed before the key leaves: invariant 2)."""
    events = (
        coffre.vault.mapper.to_domain_event(n)
        for n in coffre.vault.recorder.select_notifications(start=1, limit=100_000)
    )
    return {e.reader_key_id for e in events if isinstance(e, Access.Read)}


def test_a_stolen_token_alone_never_has_a_key_released_to_the_thief(
    coffre: Coffre, people: People
) -> None:
    patient, thief, ins = people.patient, people.thief, people.patient.actor.id

    # The thief proves they hold their key: it is recorded, and pending.
    asked = thief.request_device("not the patient's laptop")
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    key_id = asked.json()["key_id"]
    # Reading with it: refused, and no data key in the answer.
    read = people.reads(thief, key_id)
    assert problem(read, 403, "device-not-approved")["rule"] == "device_not_approved"
    assert "sealed_key" not in read.text
    # No step a token can take approves it:
    url = f"/v1/devices/{key_id}/approval"
    # - no code is outstanding (the patient used hers), and a guess is refused once one is;
    problem(thief.post(url, json={"code": "7K3QH-M2XAD"}), 409, "conflict")
    _new_letter(thief)
    wrong = thief.post(url, json={"code": "7K3QH-M2XAD"})  # the thief does not have it
    assert problem(wrong, 403, "refused")["rule"] == "wrong_code"
    # - a device's approval counts only from an approved device: not from their own;
    message = approval_message("patient", ins, key_id, asked.json()["public_key"], None)
    own = base64.b64encode(thief.device.sign(message).signature).decode()
    signed = thief.post(url, json={"approver_key_id": key_id, "signature": own})
    assert problem(signed, 403, "refused")["rule"] == "bad_approval"
    # - an enrolment service's approval is for professionals and services, by a service.
    problem(thief.post(f"/v1/readers/patient/{ins}/devices/{key_id}/approval"), 403, "forbidden")
    # The old route that took a key on the token alone is gone.
    public = base64.b64encode(bytes(thief.reader.public_key)).decode()
    assert thief.post("/v1/readers/keys", json={"public_key": public}).status_code in (404, 405)
    # A challenge is valid only for the actor it was issued to (here, the doctor's).
    challenge = people.doctor.post("/v1/devices/challenges").json()["challenge"]
    signing_key = base64.b64encode(bytes(thief.device.verify_key)).decode()
    body = {"signing_key": signing_key, "name": "x", "challenge": challenge}
    body["signature"] = base64.b64encode(bytes(64)).decode()
    problem(thief.post("/v1/devices", json=body), 400, "integrity-failure")

    # Still pending; nothing was ever released to it.
    listed = {d["key_id"]: d for d in patient.get("/v1/devices").json()["devices"]}
    assert listed[key_id]["status"] == "pending"
    problem(people.reads(thief, key_id), 403, "device-not-approved")
    assert released_to(coffre) == {patient.reader_key_id}


def test_the_genuine_owner_sees_the_attempt(coffre: Coffre, people: People) -> None:
    patient, thief, ins = people.patient, people.thief, people.patient.actor.id
    key_id = thief.request_device("unknown").json()["key_id"]
    people.reads(thief, key_id)
    _new_letter(thief)
    thief.post(f"/v1/devices/{key_id}/approval", json={"code": "AAAAA-AAAAA"})
    wait_for(coffre.runner)

    # Her notifications: a device asked to be added; a wrong code, refused.
    told = patient.get("/v1/notifications").json()["notifications"]
    kinds = [(n["kind"], n["detail"].get("key_id"), n["detail"].get("rule")) for n in told]
    assert ("device_requested", key_id, None) in kinds
    assert ("device_refused", key_id, "wrong_code") in kinds
    requested = next(n for n in told if n["kind"] == "device_requested")
    assert requested["detail"]["name"] == "unknown" and requested["space_id"] is None
    # Her access log: the request, the refused read, the refused approval, each naming
    # the thief's device (its name as it was given).
    log = patient.get(f"/v1/spaces/{ins}/access-log").json()["entries"]
    lines = [(e["action"], e["outcome"], e["reason"], (e["device"] or {}).get("name")) for e in log]
    assert ("device_request", "allowed", None, "unknown") in lines
    assert ("read", "refused", "device_not_approved", None) in lines
    assert ("device_approve", "refused", "wrong_code", "unknown") in lines
    # ... and the read she made herself names her own device.
    (own,) = [e for e in log if e["action"] == "read" and e["outcome"] == "allowed"]
    assert own["device"] == {"key_id": patient.reader_key_id, "name": "test device"}


def test_a_bad_proof_is_refused_recorded_and_told(coffre: Coffre, people: People) -> None:
    patient, thief = people.patient, people.thief
    challenge = thief.post("/v1/devices/challenges").json()["challenge"]
    signing_key = base64.b64encode(bytes(thief.device.verify_key)).decode()
    body = {"signing_key": signing_key, "name": "x", "challenge": challenge}
    body["signature"] = base64.b64encode(bytes(64)).decode()  # not a signature of the proof
    assert problem(thief.post("/v1/devices", json=body), 403, "refused")["rule"] == "bad_proof"
    # The same challenge, now correctly signed: refused, it was answered already.
    good = thief.request_device()
    assert good.status_code == 201  # (a fresh challenge)
    reused = dict(body, signature=_signature(thief, challenge, signing_key, "x"))
    assert problem(thief.post("/v1/devices", json=reused), 403, "refused")["rule"] == (
        "challenge_used"
    )
    wait_for(coffre.runner)
    told = patient.get("/v1/notifications").json()["notifications"]
    rules = [n["detail"].get("rule") for n in told if n["kind"] == "device_refused"]
    assert rules == ["challenge_used", "bad_proof"]


def test_a_revoked_device_gets_nothing_on_its_next_read(coffre: Coffre, people: People) -> None:
    patient, thief, ins = people.patient, people.thief, people.patient.actor.id
    # The patient's laptop reads, then she revokes it (lost, or stolen with her token).
    assert people.reads(patient, patient.reader_key_id).status_code == 200
    assert patient.delete(f"/v1/devices/{patient.reader_key_id}").status_code == 204
    again = people.reads(patient, patient.reader_key_id)
    assert problem(again, 403, "device-revoked")["rule"] == "device_revoked"
    assert "sealed_key" not in again.text
    # A revoked device stays revoked: asked for again, or approved, it is refused.
    key_id = thief.request_device().json()["key_id"]
    assert thief.delete(f"/v1/devices/{key_id}").status_code == 204  # her token may revoke
    assert problem(thief.request_device(), 403, "refused")["rule"] == "device_revoked"
    problem(thief.post(f"/v1/devices/{key_id}/approval", json={"code": "x"}), 409, "conflict")
    problem(people.reads(thief, key_id), 403, "device-revoked")
    listed = {d["key_id"]: d["status"] for d in patient.get("/v1/devices").json()["devices"]}
    assert (listed[patient.reader_key_id], listed[key_id]) == ("revoked", "revoked")
    assert released_to(coffre) == {patient.reader_key_id}
    # The refused reads are in her log, as refused reads.
    wait_for(coffre.runner)
    log = patient.get(f"/v1/spaces/{ins}/access-log", params={"action": "read"}).json()
    reasons = [e["reason"] for e in log["entries"] if e["outcome"] == "refused"]
    assert reasons == ["device_revoked", "device_revoked"]


def test_a_second_device_is_approved_by_the_first(people: People, api: TestClient) -> None:
    patient, ins = people.patient, people.patient.actor.id
    phone = Caller(api, patient.actor, patient.token, SigningKey.generate())
    asked = phone.request_device("phone").json()
    message = approval_message(
        "patient", ins, asked["key_id"], asked["public_key"], asked["signing_key"]
    )
    signature = base64.b64encode(patient.device.sign(message).signature).decode()
    approval = {"approver_key_id": patient.reader_key_id, "signature": signature}
    approved = phone.post(f"/v1/devices/{asked['key_id']}/approval", json=approval)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["method"]) == ("approved", "device")
    answer = people.reads(phone, asked["key_id"])
    assert phone.open_release(answer.json()) == b"bilan sanguin"


def test_a_professionals_device_is_approved_by_their_enrolment_service_only(
    people: People,
) -> None:
    doctor, hospital = people.doctor, people.hospital
    key_id = doctor.request_device().json()["key_id"]
    devices = f"/v1/readers/professional/{doctor.actor.id}/devices"
    # Not with the doctor's own token, not by any service: by the enrolment service.
    problem(doctor.post(f"{devices}/{key_id}/approval"), 403, "forbidden")
    problem(doctor.post(f"/v1/devices/{key_id}/approval", json={"code": "x"}), 403, "forbidden")
    refused = hospital.post(f"{devices}/{key_id}/approval")
    assert problem(refused, 403, "refused")["rule"] == "approver_not_authorised"
    problem(hospital.get(devices), 403, "forbidden")
    enrolment = {"Authorization": f"Bearer {doctor.enrolment_token}"}
    approved = doctor.client.post(f"{devices}/{key_id}/approval", headers=enrolment)
    assert approved.status_code == 200 and approved.json()["method"] == "service"
    listed = doctor.client.get(devices, headers=enrolment).json()["devices"]
    assert (key_id, "approved") in [(d["key_id"], d["status"]) for d in listed]


def test_a_key_registered_before_devices_is_listed_revocable_and_never_used(
    coffre: Coffre, api: TestClient, cast: Cast, clock: ManualClock
) -> None:
    # A store made before this change holds Reader.KeyRegistered (an X25519 key taken
    # on a token alone): recorded here exactly as that code recorded it.
    doctor, ins = cast.doctor.actor, cast.patient.actor.id
    reader = coffre.vault.reader(doctor.role.value, doctor.id)
    public = bytes(SigningKey.generate().to_curve25519_private_key().public_key)
    legacy = register_legacy_key(reader, public, doctor, clock.now())
    coffre.vault.save(reader)
    caller = Caller(api, doctor, coffre.tokens.mint(doctor), SigningKey.generate())
    listed = {d["key_id"]: d for d in caller.get("/v1/devices").json()["devices"]}
    assert listed[legacy]["status"] == "legacy" and listed[legacy]["signing_key"] is None
    coffre.vault.grant(ins, doctor, Scope.whole_space(), None, cast.patient.actor)
    document = deposit(coffre, ins, b"compte rendu", cast.hospital)
    read = caller.post(
        f"/v1/spaces/{ins}/documents/{document}/reads", json={"reader_key_id": legacy}
    )
    problem(read, 403, "device-not-approved")
    enrolment = {"Authorization": f"Bearer {coffre.tokens.mint(ENROLMENT)}"}
    member = f"/v1/readers/professional/{doctor.id}/devices/{legacy}/approval"
    problem(api.post(member, headers=enrolment), 409, "conflict")  # it cannot prove itself
    assert caller.delete(f"/v1/devices/{legacy}").status_code == 204
    statuses = {d["key_id"]: d["status"] for d in caller.get("/v1/devices").json()["devices"]}
    assert statuses[legacy] == "revoked"
    assert legacy not in released_to(coffre)


def _new_letter(someone: Caller) -> None:
    # The enrolment service sends the patient a new enrolment code (by letter).
    answer = someone.client.post(
        f"/v1/readers/patient/{someone.actor.id}/enrolment-codes",
        headers={"Authorization": f"Bearer {someone.enrolment_token}"},
    )
    assert answer.status_code == 201, answer.text


def _signature(who: Caller, challenge: str, signing_key: str, name: str) -> str:
    message = proof_message(challenge, who.actor.role.value, who.actor.id, signing_key, name)
    return base64.b64encode(who.device.sign(message).signature).decode()
