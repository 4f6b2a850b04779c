"""The patient's rules on the in-memory vault: life cycle, grants (one per
professional), revocation, blocks, emergency access, representatives appointed by the
registry, acknowledgements' bounds, and the existence rule.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.records import Setting
from domain.values import Actor, Scope, patient_id_from_number
from tests.unit.conftest import BASIS, HOSPITAL, PATIENT_ID, REGISTRY, World, professional
from tests.unit.test_reads import DOCTOR, GUARDIAN, NURSE, refused
from vault.clock import ManualClock
from vault.service import Vault
from wire.errors import Conflict, Forbidden, InvalidInput, Refused, UnknownSpace
from wire.values import POSITION_MAX, Profession, Role

PATIENT = Actor(Role.PATIENT, PATIENT_ID, "Jeanne Martin")


# -- life cycle -------------------------------------------------------------------


def test_a_provisioned_space_is_pending_then_opens_and_is_activated(
    vault: Vault, clock: ManualClock
) -> None:
    provisioned = vault.provision(PATIENT_ID, HOSPITAL)
    assert provisioned.one_time_code and provisioned.opens_at is not None
    assert vault.space_state(PATIENT_ID, PATIENT).status == "pending"
    with pytest.raises(Conflict, match="not open"):
        vault.upload(PATIENT_ID, [b"COFFRE"], HOSPITAL)
    with pytest.raises(Conflict):
        vault.provision(PATIENT_ID, HOSPITAL)
    clock.advance(provisioned.opens_at - clock.now())
    with pytest.raises(Refused):
        vault.activate(PATIENT_ID, "not-the-code", PATIENT)
    vault.activate(PATIENT_ID, provisioned.one_time_code, PATIENT)
    state = vault.space_state(PATIENT_ID, PATIENT)
    assert state.activated_at == clock.now()


def test_an_opposed_space_never_opens(vault: Vault, clock: ManualClock) -> None:
    provisioned = vault.provision(PATIENT_ID, HOSPITAL)
    vault.oppose(PATIENT_ID, provisioned.one_time_code, PATIENT)
    clock.advance(timedelta(weeks=7))
    assert vault.space_state(PATIENT_ID, PATIENT).status == "opposed"
    with pytest.raises(Conflict):
        vault.upload(PATIENT_ID, [b"COFFRE"], HOSPITAL)


def test_the_holder_closes_the_space_and_nobody_reads_it_any_more(world: World) -> None:
    document = world.deposit(b"x")
    state = world.vault.close_space(world.pid, world.patient.actor)
    assert state.status == "closed" and state.archive_until is not None
    assert refused(world, document, world.patient) == "space_not_open"


def test_a_regulator_may_not_deposit_and_another_patient_does_not_see_the_space(
    world: World,
) -> None:
    regulator = Actor(Role.REGULATOR, "cnil", "CNIL")
    with pytest.raises(UnknownSpace):
        world.vault.upload(world.pid, [b"COFFRE"], regulator)
    other = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Petit")
    with pytest.raises(UnknownSpace):
        world.vault.space_key(world.pid, other)


# -- grants -----------------------------------------------------------------------


def test_one_grant_per_professional_a_second_changes_the_first(world: World) -> None:
    me = world.patient.actor
    first = world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, me)
    until = world.clock.now() + timedelta(days=30)
    second = world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), until, me)
    assert second == first
    (grant,) = [g for g in world.vault.grants(world.pid, me) if g.active]
    assert grant.grant_id == first and grant.expires_at == until


def test_revoking_a_grant_takes_effect_on_the_next_read(world: World) -> None:
    document = world.deposit(b"x")
    doctor = world.person(DOCTOR)
    me = world.patient.actor
    grant_id = world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, me)
    assert world.read(document, doctor) == b"x"
    world.vault.revoke(world.pid, grant_id, me)
    assert refused(world, document, doctor) == "not_authorised"
    world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, me)
    assert world.vault.revoke_professional(world.pid, DOCTOR.id, me) != grant_id
    assert refused(world, document, doctor) == "not_authorised"


def test_only_the_holder_grants(world: World) -> None:
    with pytest.raises(Forbidden):
        world.vault.grant(world.pid, NURSE, Scope.whole_space(), None, DOCTOR)


# -- blocks -------------------------------------------------------------------------


def test_a_blocked_professional_is_listed_and_cannot_join_the_care_team_around_it(
    world: World,
) -> None:
    document = world.deposit(b"x")
    nurse = world.person(NURSE)
    world.vault.block(world.pid, NURSE, world.patient.actor)
    world.vault.add_to_care_team(world.pid, NURSE, None, HOSPITAL)
    assert refused(world, document, nurse) == "blocked"
    rules = world.vault.access_rules(world.pid, world.patient.actor)
    assert [b["id"] for b in rules.blocked] == [NURSE.id]


# -- emergency access ---------------------------------------------------------------


def test_an_emergency_access_lasts_24_hours_and_does_not_reveal_masked_documents(
    world: World,
) -> None:
    plain = world.deposit(b"plain")
    masked = world.deposit(b"masked")
    world.vault.mask(world.pid, masked, world.patient.actor)
    urgentist = world.person(professional("1000000009", "Dr Urgence"))
    granted = world.vault.invoke_emergency_access(world.pid, "inconscient, SAMU", urgentist.actor)
    assert granted.expires_at == world.clock.now() + timedelta(hours=24)
    assert world.read(plain, urgentist) == b"plain"
    assert refused(world, masked, urgentist) == "masked_from_professionals"
    world.vault.change_setting(
        world.pid, Setting.EMERGENCY_REVEALS_MASKED, True, world.patient.actor
    )
    assert world.read(masked, urgentist) == b"masked"
    world.clock.advance(timedelta(hours=24, seconds=1))
    assert refused(world, plain, urgentist) == "not_authorised"


def test_a_patient_may_forbid_emergency_access(world: World) -> None:
    me = world.patient.actor
    world.vault.change_setting(world.pid, Setting.EMERGENCY_ACCESS_FORBIDDEN, True, me)
    with pytest.raises(Refused, match="forbade"):
        world.vault.invoke_emergency_access(world.pid, "inconscient", DOCTOR)
    assert world.vault.access_rules(world.pid, me).emergency_accesses == []


def test_only_a_health_professional_breaks_the_glass(world: World) -> None:
    """CSP L1111-17 says "un professionnel de santé": a social worker, who reads under a
    grant like any professional, is refused an emergency access, and the attempt is on
    the patient's record; a nurse is not refused."""
    document = world.deposit(b"x")
    social = world.person(professional("1000000017", "Assistante", Profession.SOCIAL_WORKER))
    with pytest.raises(Refused, match="health professionals") as refusal:
        world.vault.invoke_emergency_access(world.pid, "inconsciente, seule", social.actor)
    assert refusal.value.rule == "not_a_health_profession"
    assert refused(world, document, social) == "not_authorised"
    nurse = world.person(professional("1000000025", "Infirmier", Profession.NURSE))
    world.vault.invoke_emergency_access(world.pid, "inconsciente, seule", nurse.actor)
    assert world.read(document, nurse) == b"x"


# -- representatives ----------------------------------------------------------------


def test_only_the_registry_appoints_a_representative_who_then_acts_for_the_patient(
    world: World,
) -> None:
    document = world.deposit(b"x")
    with pytest.raises(Forbidden, match="authorised registry"):
        world.vault.add_representative(world.pid, GUARDIAN, "guardian", HOSPITAL, basis=BASIS)
    guardian = world.person(GUARDIAN)
    with pytest.raises(UnknownSpace):
        world.read(document, guardian)
    world.vault.add_representative(world.pid, GUARDIAN, "guardian", REGISTRY, basis=BASIS)
    assert world.read(document, guardian) == b"x"
    with pytest.raises(Forbidden):
        world.vault.end_representation(world.pid, GUARDIAN.id, HOSPITAL)
    world.vault.end_representation(world.pid, GUARDIAN.id, REGISTRY)
    with pytest.raises(UnknownSpace):
        world.read(document, guardian)


# -- notifications ------------------------------------------------------------------


def test_an_acknowledgement_is_bounded_by_the_newest_notification(world: World) -> None:
    newest = world.vault.recorder.max_notification_id()
    assert newest is not None
    for up_to in (-1, newest + 1, POSITION_MAX + 1, 10**25):
        with pytest.raises(InvalidInput):
            world.vault.acknowledge_notifications(world.patient.actor, up_to)
    assert world.vault.recorder.max_notification_id() == newest
    assert world.vault.acknowledge_notifications(world.patient.actor, newest) == newest
    # Going back acknowledges nothing more and keeps the furthest position.
    assert world.vault.acknowledge_notifications(world.patient.actor, 1) == newest


# -- existence ----------------------------------------------------------------------


def test_no_answer_tells_a_stranger_whether_a_space_exists(world: World) -> None:
    stranger = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Petit")
    missing = patient_id_from_number("2920133123456")
    for pid in (world.pid, missing):
        for call in (
            lambda p: world.vault.space_state(p, stranger),
            lambda p: world.vault.documents(p, stranger),
            lambda p: world.vault.access_rules(p, stranger),
            lambda p: world.vault.authorise_log(p, stranger),
            lambda p: world.vault.delete_document(p, uuid4(), stranger),
        ):
            with pytest.raises(UnknownSpace, match=r"^no space for this patient$"):
                call(pid)
