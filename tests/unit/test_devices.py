"""Reader devices, the rules (``domain.devices``, ``domain.reader``) on the in-memory vault.

The same steps through the API, on both backends, are ``tests/scenarios/test_devices.py``.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from nacl.signing import SigningKey

from domain.devices import CHALLENGE_TTL, ENROLMENT_CODE_TTL, ByCode, ByDevice, ByService
from domain.life import MAX_CODE_FAILURES
from domain.reader import Reader
from domain.values import Actor, patient_id_from_number
from tests.devices import ENROLMENT, enrol, register_legacy_key, request
from tests.unit.conftest import HOSPITAL, World, professional
from vault.clock import ManualClock
from vault.service import Vault
from wire.devices import approval_message, device_request
from wire.errors import (
    Conflict,
    DeviceNotApproved,
    DeviceRevoked,
    Forbidden,
    IntegrityFailure,
    InvalidInput,
    InvalidKey,
    Refused,
    UnknownReaderKey,
)
from wire.values import Role

DOCTOR = professional("1000000001", "Dr Paul Durand")
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2870675123456"), "Jeanne Martin")
GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1650599111222"), "Tuteur")


def events(vault: Vault, actor: Actor) -> list[str]:
    """The names of the events of ``actor``'s reader record, oldest first."""
    stored = vault.repository.event_store.get(Reader.create_id(actor.role.value, actor.id))
    return [type(e).__name__ for e in stored]


def refusals(vault: Vault, actor: Actor) -> list[str]:
    """The rules of the refused steps recorded about ``actor``'s devices."""
    stored = vault.repository.event_store.get(Reader.create_id(actor.role.value, actor.id))
    return [e.rule for e in stored if isinstance(e, Reader.DeviceRefused)]


def test_a_pending_device_receives_no_data_key(world: World) -> None:
    document = world.deposit(b"bilan")
    pending = request(world.vault, PATIENT, SigningKey.generate())
    assert pending.status == "pending"
    with pytest.raises(DeviceNotApproved) as refused:
        world.vault.read(world.pid, document, PATIENT, pending.key_id)
    assert refused.value.rule == "device_not_approved"
    assert world.refusals() == ["device_not_approved"]  # recorded, as a refused read


def test_a_challenge_is_single_use_short_lived_and_the_actors_own(
    vault: Vault, clock: ManualClock
) -> None:
    key = SigningKey.generate()
    signing_key = base64.b64encode(bytes(key.verify_key)).decode()

    def body(challenge: str, actor: Actor = PATIENT) -> dict[str, str]:
        sign = lambda message: key.sign(message).signature  # noqa: E731
        return device_request(signing_key, sign, challenge, actor.role.value, actor.id, "x")

    used = vault.device_challenge(PATIENT).challenge
    vault.request_device(PATIENT, **body(used))
    with pytest.raises(Refused) as again:
        vault.request_device(PATIENT, **body(used))
    assert again.value.rule == "challenge_used"
    # Someone else's challenge, or an expired one, is bad input: nothing is recorded.
    before = events(vault, PATIENT)
    theirs = vault.device_challenge(DOCTOR).challenge
    with pytest.raises(IntegrityFailure):
        vault.request_device(PATIENT, **body(theirs))
    late = vault.device_challenge(PATIENT).challenge
    clock.advance(CHALLENGE_TTL + timedelta(seconds=2))
    with pytest.raises(IntegrityFailure):
        vault.request_device(PATIENT, **body(late))
    assert events(vault, PATIENT) == before


def test_a_proof_must_sign_the_actor_and_the_name_it_gives(vault: Vault) -> None:
    key = SigningKey.generate()
    signing_key = base64.b64encode(bytes(key.verify_key)).decode()
    challenge = vault.device_challenge(PATIENT)
    sign = lambda message: key.sign(message).signature  # noqa: E731
    # signed for another actor, or another name: a bad proof, recorded
    other = device_request(signing_key, sign, challenge.challenge, "patient", GUARDIAN.id, "x")
    with pytest.raises(Refused) as refused:
        vault.request_device(PATIENT, **other)
    assert refused.value.rule == "bad_proof"
    renamed = device_request(signing_key, sign, vault.device_challenge(PATIENT).challenge,
                             "patient", PATIENT.id, "x")  # fmt: skip
    with pytest.raises(Refused):
        vault.request_device(PATIENT, **{**renamed, "name": "y"})
    assert refusals(vault, PATIENT) == ["bad_proof", "bad_proof"]


@pytest.mark.parametrize(
    ("signing_key", "error"),
    [("AAAA", InvalidInput), (base64.b64encode(bytes(32)).decode(), InvalidKey)],
)
def test_bad_key_material_records_nothing(vault: Vault, signing_key: str, error: type) -> None:
    challenge = vault.device_challenge(PATIENT).challenge
    signature = base64.b64encode(bytes(64)).decode()
    with pytest.raises(error):
        vault.request_device(PATIENT, signing_key, "x", challenge, signature)
    with pytest.raises(InvalidInput):
        vault.request_device(PATIENT, signing_key, "\u202e", challenge, signature)
    assert events(vault, PATIENT) == []


def test_an_enrolment_code_is_single_use_locks_and_expires(
    vault: Vault, clock: ManualClock
) -> None:
    first = request(vault, PATIENT, SigningKey.generate()).key_id
    second = request(vault, PATIENT, SigningKey.generate()).key_id
    with pytest.raises(Conflict):  # no code issued yet
        vault.approve_device("patient", PATIENT.id, first, ByCode("AAAAA-AAAAA"), PATIENT)
    code = vault.issue_enrolment_code("patient", PATIENT.id, ENROLMENT)
    vault.approve_device("patient", PATIENT.id, first, ByCode(code.lower()), PATIENT)
    with pytest.raises(Conflict):  # spent
        vault.approve_device("patient", PATIENT.id, second, ByCode(code), PATIENT)
    vault.issue_enrolment_code("patient", PATIENT.id, ENROLMENT)
    for _ in range(MAX_CODE_FAILURES):
        with pytest.raises(Refused):
            vault.approve_device("patient", PATIENT.id, second, ByCode("AAAAA-AAAAA"), PATIENT)
    with pytest.raises(Conflict, match="locked"):
        vault.approve_device("patient", PATIENT.id, second, ByCode("AAAAA-AAAAA"), PATIENT)
    late = vault.issue_enrolment_code("patient", PATIENT.id, ENROLMENT)  # a new one unlocks
    clock.advance(ENROLMENT_CODE_TTL + timedelta(days=1))
    with pytest.raises(Conflict, match="expired"):
        vault.approve_device("patient", PATIENT.id, second, ByCode(late), PATIENT)
    assert refusals(vault, PATIENT) == ["wrong_code"] * MAX_CODE_FAILURES


def test_who_may_issue_codes_and_approve(vault: Vault) -> None:
    with pytest.raises(Forbidden):  # a hospital is not an enrolment service
        vault.issue_enrolment_code("patient", PATIENT.id, HOSPITAL)
    with pytest.raises(InvalidInput):  # professionals hold no letter
        vault.issue_enrolment_code("professional", DOCTOR.id, ENROLMENT)
    with pytest.raises(InvalidInput):
        vault.issue_enrolment_code("nobody", PATIENT.id, ENROLMENT)
    pending = request(vault, DOCTOR, SigningKey.generate()).key_id
    with pytest.raises(Forbidden):  # a code approves a person's device, not a doctor's
        vault.approve_device("professional", DOCTOR.id, pending, ByCode("x"), DOCTOR)
    with pytest.raises(Refused):  # any service is not enough
        vault.approve_device("professional", DOCTOR.id, pending, ByService(), HOSPITAL)
    patients = request(vault, PATIENT, SigningKey.generate()).key_id
    with pytest.raises(Forbidden):  # a person's device is never a service's to approve
        vault.approve_device("patient", PATIENT.id, patients, ByService(), ENROLMENT)
    own = request(vault, ENROLMENT, SigningKey.generate()).key_id
    with pytest.raises(Refused):  # nor its own
        vault.approve_device("service", ENROLMENT.id, own, ByService(), ENROLMENT)
    approved = vault.approve_device("professional", DOCTOR.id, pending, ByService(), ENROLMENT)
    assert (approved.status, approved.method, approved.approver) == (
        "approved",
        "service",
        ENROLMENT.id,
    )
    assert refusals(vault, DOCTOR) == ["approver_not_authorised"]


def test_a_representative_enrols_with_a_code_and_their_first_device_approves_the_next(
    vault: Vault,
) -> None:
    _, first = enrol(vault, GUARDIAN)
    key = SigningKey.generate()
    second = request(vault, GUARDIAN, key)
    message = approval_message(
        "representative", GUARDIAN.id, second.key_id, second.public_key, second.signing_key
    )
    first_key = vault.devices("representative", GUARDIAN.id, GUARDIAN)[0]
    assert first_key.key_id == first and first_key.method == "code"
    # signed by the new device itself: refused (only an approved device approves)
    by_itself = ByDevice(second.key_id, key.sign(message).signature)
    with pytest.raises(Refused):
        vault.approve_device("representative", GUARDIAN.id, second.key_id, by_itself, GUARDIAN)
    with pytest.raises(UnknownReaderKey):
        vault.approve_device("representative", GUARDIAN.id, "0" * 32, ByCode("x"), GUARDIAN)
    assert refusals(vault, GUARDIAN) == ["bad_approval"]


def test_revoking_is_for_the_owner_and_final(world: World) -> None:
    document = world.deposit(b"bilan")
    doctor = world.person(DOCTOR)
    with pytest.raises(Forbidden):  # another person may not
        world.vault.revoke_device("professional", DOCTOR.id, doctor.key_id, PATIENT)
    with pytest.raises(UnknownReaderKey):
        world.vault.revoke_device("professional", DOCTOR.id, "0" * 32, DOCTOR)
    # the enrolment service may, for the roles it approves (a lost laptop)
    world.vault.revoke_device("professional", DOCTOR.id, doctor.key_id, ENROLMENT)
    world.vault.revoke_device("professional", DOCTOR.id, doctor.key_id, DOCTOR)  # nothing new
    assert events(world.vault, DOCTOR).count("DeviceRevoked") == 1
    with pytest.raises(DeviceRevoked):
        world.vault.read(world.pid, document, DOCTOR, doctor.key_id)
    with pytest.raises(Conflict):
        world.vault.approve_device("professional", DOCTOR.id, doctor.key_id, ByService(), ENROLMENT)


def test_a_legacy_key_replays_listed_unusable_and_revocable(world: World) -> None:
    document = world.deposit(b"bilan")
    reader = world.vault.reader(PATIENT.role.value, PATIENT.id)
    legacy = register_legacy_key(reader, bytes(32 * [9]), PATIENT, world.clock.now())
    world.vault.save(reader)
    listed = {d.key_id: d for d in world.vault.devices("patient", PATIENT.id, PATIENT)}
    assert listed[legacy].status == "legacy" and listed[legacy].signing_key is None
    with pytest.raises(DeviceNotApproved, match="before device approval"):
        world.vault.read(world.pid, document, PATIENT, legacy)
    code = world.vault.issue_enrolment_code("patient", PATIENT.id, ENROLMENT)
    with pytest.raises(Conflict):  # it cannot prove who holds it: never approved
        world.vault.approve_device("patient", PATIENT.id, legacy, ByCode(code), PATIENT)
    world.vault.revoke_device("patient", PATIENT.id, legacy, PATIENT)
    assert world.vault.devices("patient", PATIENT.id, PATIENT)[-1].status == "revoked"


def test_listing_is_for_the_owner_and_their_enrolment_service(vault: Vault) -> None:
    request(vault, DOCTOR, SigningKey.generate(), "cabinet")
    assert [d.name for d in vault.devices("professional", DOCTOR.id, DOCTOR)] == ["cabinet"]
    assert [d.name for d in vault.devices("professional", DOCTOR.id, ENROLMENT)] == ["cabinet"]
    with pytest.raises(Forbidden):
        vault.devices("professional", DOCTOR.id, HOSPITAL)
    with pytest.raises(Forbidden):  # a person's devices are theirs alone to list
        vault.devices("patient", PATIENT.id, ENROLMENT)
    assert vault.devices("patient", PATIENT.id, PATIENT) == []
