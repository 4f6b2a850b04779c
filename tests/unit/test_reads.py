"""Reads on the in-memory vault: each rule of RULES.md "Who may read a document" at
least once, with the rule recorded on the refusal, and every way a read is allowed.

A refusal answers exactly like an unknown document (it never reveals that the
document exists); the rule that refused is what the patient's log shows.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.confidentiality import Confidentiality
from domain.records import Setting
from domain.values import Actor, Scope, patient_id_from_number
from tests.unit.conftest import (
    BASIS,
    HOSPITAL,
    PATIENT_ID,
    REGISTRY,
    Person,
    World,
    professional,
)
from vault.service import Vault
from wire.errors import UnknownDocument, UnknownSpace
from wire.values import DocumentType, Profession, Role

DOCTOR = professional("1000000001", "Dr Paul Durand")
DENTIST = professional("1000000002", "Dr Léa Blanc", Profession.DENTIST)
NURSE = professional("1000000003", "Inès Roux", Profession.NURSE)
GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575000901"), "Paul Tuteur")


def refused(world: World, document_id: object, person: Person) -> str:
    """Read, expect the unknown-document answer, return the rule recorded."""
    with pytest.raises(UnknownDocument, match=r"^no such document in this space$"):
        world.vault.read(world.pid, document_id, person.actor, person.key_id)  # type: ignore[arg-type]
    return world.refusals()[-1]


def test_the_patient_reads_their_document(world: World) -> None:
    document = world.deposit(b"hemoglobine 13.5")
    assert world.read(document, world.patient) == b"hemoglobine 13.5"


def test_the_author_reads_what_they_deposited(world: World) -> None:
    doctor = world.person(DOCTOR)
    document = world.deposit(b"compte rendu", DOCTOR)
    assert world.read(document, doctor) == b"compte rendu"


def test_rule_1_a_pending_space_is_read_by_nobody(vault: Vault, clock: object) -> None:
    from tests.unit.conftest import World as W

    vault.provision(PATIENT_ID, HOSPITAL)  # pending for six weeks
    patient = Actor(Role.PATIENT, PATIENT_ID, "Jeanne Martin")
    world = W(vault, clock, None, "")  # type: ignore[arg-type]
    world.patient = world.person(patient)
    assert refused(world, uuid4(), world.patient) == "space_not_open"


def test_an_unknown_and_a_deleted_document_are_refused_as_such(world: World) -> None:
    assert refused(world, uuid4(), world.patient) == "unknown_document"
    document = world.deposit(b"x")
    world.vault.delete_document(world.pid, document, world.patient.actor)
    assert refused(world, document, world.patient) == "document_deleted"


def test_rule_2_a_professional_without_a_grant_is_not_authorised(world: World) -> None:
    document = world.deposit(b"x")
    assert refused(world, document, world.person(DOCTOR)) == "not_authorised"


def test_rule_2_a_grant_covering_the_document_allows_and_one_that_does_not_refuses(
    world: World,
) -> None:
    lab = world.deposit(b"lab", type=DocumentType.LAB_RESULT)
    imaging = world.deposit(b"scan", type=DocumentType.IMAGING_REPORT)
    doctor = world.person(DOCTOR)
    scope = Scope("types", types=frozenset({DocumentType.LAB_RESULT}))
    world.vault.grant(world.pid, DOCTOR, scope, None, world.patient.actor)
    assert world.read(lab, doctor) == b"lab"
    assert refused(world, imaging, doctor) == "not_authorised"


def test_rule_2_an_expired_grant_no_longer_allows(world: World) -> None:
    document = world.deposit(b"x")
    doctor = world.person(DOCTOR)
    until = world.clock.now() + timedelta(days=1)
    world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), until, world.patient.actor)
    assert world.read(document, doctor) == b"x"
    world.clock.advance(timedelta(days=1, seconds=1))
    assert refused(world, document, doctor) == "not_authorised"


def test_rule_2_the_care_team_is_deemed_authorised(world: World) -> None:
    document = world.deposit(b"x")
    nurse = world.person(NURSE)
    world.vault.add_to_care_team(world.pid, NURSE, None, HOSPITAL)
    assert world.read(document, nurse) == b"x"


def test_rule_3_a_blocked_professional_is_refused_even_with_a_grant(world: World) -> None:
    document = world.deposit(b"x")
    doctor = world.person(DOCTOR)
    world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, world.patient.actor)
    world.vault.block(world.pid, DOCTOR, world.patient.actor)
    assert refused(world, document, doctor) == "blocked"
    world.vault.unblock(world.pid, DOCTOR.id, world.patient.actor)
    assert world.read(document, doctor) == b"x"


def test_rule_4_the_profession_matrix_refuses_a_dentist_a_psychiatric_summary(
    world: World,
) -> None:
    psychiatry = world.deposit(b"psy", type=DocumentType.PSYCHIATRIC_SUMMARY)
    lab = world.deposit(b"lab", type=DocumentType.LAB_RESULT)
    dentist = world.person(DENTIST)
    world.vault.grant(world.pid, DENTIST, Scope.whole_space(), None, world.patient.actor)
    assert refused(world, psychiatry, dentist) == "profession_matrix"
    assert world.read(lab, dentist) == b"lab"


def test_rule_5_a_masked_document_is_refused_to_a_granted_professional(world: World) -> None:
    document = world.deposit(b"x")
    doctor = world.person(DOCTOR)
    world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, world.patient.actor)
    world.vault.mask(world.pid, document, world.patient.actor)
    assert refused(world, document, doctor) == "masked_from_professionals"
    assert [d.document_id for d in world.vault.documents(world.pid, DOCTOR)] == []
    world.vault.unmask(world.pid, document, world.patient.actor)
    assert world.read(document, doctor) == b"x"


def test_rule_5_the_author_still_reads_what_is_masked(world: World) -> None:
    doctor = world.person(DOCTOR)
    document = world.deposit(b"x", DOCTOR)
    world.vault.mask(world.pid, document, world.patient.actor)
    assert world.read(document, doctor) == b"x"


def test_rule_5_the_attending_physician_reads_masked_only_when_the_patient_allowed(
    world: World,
) -> None:
    document = world.deposit(b"x")
    doctor = world.person(DOCTOR)
    me = world.patient.actor
    world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, me)
    world.vault.designate_attending_physician(world.pid, DOCTOR, me)
    world.vault.mask(world.pid, document, me)
    assert refused(world, document, doctor) == "masked_from_professionals"
    world.vault.change_setting(world.pid, Setting.ATTENDING_PHYSICIAN_SEES_MASKED, True, me)
    assert world.read(document, doctor) == b"x"


def test_rule_6_a_document_invisible_to_the_patient_waits_for_the_announcement(
    world: World,
) -> None:
    codes = Confidentiality(invisible_to_patient=True)
    document = world.deposit(b"x", confidentiality=codes)
    assert refused(world, document, world.patient) == "invisible_to_patient"
    assert world.vault.documents(world.pid, world.patient.actor) == []
    # It becomes visible on its own after a month (CSP R1111-53), scheduler or not.
    world.clock.advance(timedelta(days=32))
    assert world.read(document, world.patient) == b"x"


def test_rule_6_the_depositor_may_release_it_to_the_patient_earlier(world: World) -> None:
    document = world.deposit(b"x", confidentiality=Confidentiality(invisible_to_patient=True))
    world.vault.release_to_patient(world.pid, document, HOSPITAL)
    assert world.read(document, world.patient) == b"x"


def test_rule_7_a_document_invisible_to_representatives(world: World) -> None:
    world.vault.add_representative(world.pid, GUARDIAN, "guardian", REGISTRY, basis=BASIS)
    guardian = world.person(GUARDIAN)
    open_document = world.deposit(b"open")
    secret = world.deposit(
        b"secret", confidentiality=Confidentiality(invisible_to_representatives=True)
    )
    assert world.read(open_document, guardian) == b"open"
    assert refused(world, secret, guardian) == "invisible_to_representatives"
    assert world.read(secret, world.patient) == b"secret"
    listed = [d.document_id for d in world.vault.documents(world.pid, GUARDIAN)]
    assert listed == [open_document]


def test_a_refusal_and_an_allowed_read_are_both_recorded(world: World) -> None:
    document = world.deposit(b"x")
    refused(world, document, world.person(DOCTOR))
    world.read(document, world.patient)
    assert world.refusals() == ["not_authorised"]


def test_a_stranger_patient_gets_the_answer_a_missing_space_gets(world: World) -> None:
    document = world.deposit(b"x")
    other = world.person(Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno"))
    with pytest.raises(UnknownSpace, match=r"^no space for this patient$"):
        world.vault.read(world.pid, document, other.actor, other.key_id)
    with pytest.raises(UnknownSpace, match=r"^no space for this patient$"):
        world.vault.documents(world.pid, other.actor)
    missing = patient_id_from_number("2920133123456")
    with pytest.raises(UnknownSpace, match=r"^no space for this patient$"):
        world.vault.documents(missing, other.actor)
    # The attempt is recorded all the same: the patient sees it in their log.
    assert world.refusals() == ["not_authorised"]
