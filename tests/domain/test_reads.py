"""One answer per question (``domain.reads``): depositing, who may read, the codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.confidentiality import Confidentiality
from domain.periods import Periods
from domain.reads import (
    Mode,
    Rule,
    codes_hidden_from,
    decide_read,
    may_deposit,
    may_list,
    readers,
    require_depositor,
)
from domain.representatives import LegalBasis, Registry
from domain.space import Space
from domain.values import (
    Actor,
    Ciphertext,
    Scope,
    patient_id_from_number,
    professional_id_from_number,
)
from wire.errors import Forbidden
from wire.values import DocumentMetadata, DocumentType, Profession, Role

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PATIENT = Actor(Role.PATIENT, patient_id_from_number("1850575123456"), "Jeanne")
OTHER_PATIENT = Actor(Role.PATIENT, patient_id_from_number("2850575123457"), "Paule")
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon")
REGULATOR = Actor(Role.REGULATOR, "cnil-audit", "Regulator")


def _doctor(number: str) -> Actor:
    return Actor(Role.PROFESSIONAL, professional_id_from_number(number), number, Profession.DOCTOR)


AUTHOR, GRANTEE, BLOCKED, ER, STRANGER = (_doctor(f"300000000{i}") for i in range(1, 6))
META = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 1))


def _deposit(space: Space, author: Actor) -> object:
    document_id = uuid4()
    space.deposit(
        document_id, META, Ciphertext(uuid4().hex, 1, "a" * 64), b"\x02" * 80, author, NOW
    )
    return document_id


@pytest.fixture
def space() -> Space:
    return Space.provision(PATIENT.id, "key-1", b"\x01" * 32, HOSPITAL, NOW)


@pytest.mark.parametrize("actor", [REGULATOR, OTHER_PATIENT])
def test_who_may_not_deposit_gets_one_answer_forbidden(space: Space, actor: Actor) -> None:
    # Before issue 10 the space said InvalidInput where the vault said Forbidden.
    assert not may_deposit(space, actor, NOW)
    with pytest.raises(Forbidden):
        require_depositor(space, actor, NOW)
    with pytest.raises(Forbidden):
        _deposit(space, actor)
    assert space.documents == {}


@pytest.mark.parametrize("actor", [PATIENT, HOSPITAL, AUTHOR])
def test_the_patient_services_and_professionals_deposit(space: Space, actor: Actor) -> None:
    assert may_deposit(space, actor, NOW)
    _deposit(space, actor)


def test_readers_are_decide_reads_answer_for_everyone_the_space_names(space: Space) -> None:
    document_id = _deposit(space, AUTHOR)
    for professional in (GRANTEE, BLOCKED):
        space.grant(uuid4(), professional, Scope.whole_space(), None, PATIENT, NOW)
    space.block(BLOCKED, PATIENT, NOW)
    assert space.invoke_emergency_access(uuid4(), "Patient inconscient", Periods(), ER, NOW)
    allowed = readers(space, document_id, NOW)
    assert {key: decision.mode for key, decision in allowed.items()} == {
        AUTHOR.id: Mode.AUTHOR,
        GRANTEE.id: Mode.GRANT,
        ER.id: Mode.EMERGENCY,
    }
    assert decide_read(space, document_id, BLOCKED, NOW).rule is Rule.BLOCKED
    assert STRANGER.id not in allowed
    # The emergency ends: its professional is no longer a reader.
    assert ER.id not in readers(space, document_id, NOW + timedelta(days=2))


def test_the_codes_live_in_the_domain_under_one_name_each(space: Space) -> None:
    document_id = _deposit(space, AUTHOR)
    codes = Confidentiality(masked=True, invisible_to_patient=True)
    codes.apply(space, document_id, Periods(), AUTHOR, NOW)
    document = space.documents[document_id]
    assert document.masked and document.invisible_to_patient(NOW)
    assert not document.invisible_to_representatives
    assert decide_read(space, document_id, PATIENT, NOW).rule is Rule.INVISIBLE_TO_PATIENT
    assert not Confidentiality()


GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1650575123458"), "Tuteur")
INSURER = Actor(Role.SERVICE, "cpam-registre", "Registre")


@pytest.mark.parametrize("role", [Role.PATIENT, Role.REPRESENTATIVE, Role.PROFESSIONAL])
@pytest.mark.parametrize("to_patient", [False, True])
@pytest.mark.parametrize("to_representatives", [False, True])
def test_codes_hidden_from_a_role_are_may_lists_answer(
    space: Space, role: Role, to_patient: bool, to_representatives: bool
) -> None:
    """The views filter their rows by ``codes_hidden_from``: it must say what ``may_list``
    says of a document carrying those codes, for every role that reads a listing."""
    space.add_representative(
        GUARDIAN,
        "guardian",  # type: ignore[arg-type]
        None,
        Periods(),
        INSURER,
        NOW,
        basis=LegalBasis("jugement de tutelle", date(2026, 1, 5)),
        registry=Registry(frozenset({INSURER.id})),
    )
    space.grant(uuid4(), GRANTEE, Scope.whole_space(), None, PATIENT, NOW)
    document_id = _deposit(space, AUTHOR)
    codes = Confidentiality(
        invisible_to_patient=to_patient, invisible_to_representatives=to_representatives
    )
    codes.apply(space, document_id, Periods(), AUTHOR, NOW)
    reader = {Role.PATIENT: PATIENT, Role.REPRESENTATIVE: GUARDIAN, Role.PROFESSIONAL: GRANTEE}
    listed = may_list(space, space.documents[document_id], reader[role], NOW)
    carried = {code for code, on in codes.__dict__.items() if on}
    assert listed is not bool(carried & set(codes_hidden_from(role)))
