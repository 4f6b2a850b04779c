"""The space aggregate: commands validate first, events replay to the same state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.reads import Mode, Rule, decide_read
from domain.space import Space
from domain.values import (
    Actor,
    Ciphertext,
    Scope,
    patient_id_from_number,
    professional_id_from_number,
)
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownDocument, UnknownGrant
from wire.values import DocumentMetadata, DocumentType, Profession, Role

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PATIENT = Actor(Role.PATIENT, patient_id_from_number("1850575123456"), "Jeanne")
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon")
DOCTOR = Actor(
    Role.PROFESSIONAL, professional_id_from_number("1000000001"), "Dr A", Profession.DOCTOR
)
OTHER = Actor(
    Role.PROFESSIONAL, professional_id_from_number("1000000002"), "Dr B", Profession.DOCTOR
)
META = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 1))


def blob() -> Ciphertext:
    return Ciphertext(uuid4().hex, 100, "a" * 64)


@pytest.fixture
def space() -> Space:
    return Space.provision(PATIENT.id, "key-1", b"\x01" * 32, HOSPITAL, NOW)


def test_events_replay_to_the_same_state(space: Space) -> None:
    document_id = uuid4()
    space.deposit(document_id, META, blob(), b"\x02" * 80, HOSPITAL, NOW)
    grant_id = uuid4()
    space.grant(grant_id, DOCTOR, Scope.whole_space(), None, PATIENT, NOW)
    space.revoke(grant_id, PATIENT, NOW)
    events = space.collect_events()
    replayed = None
    for stored in events:
        replayed = stored.mutate(replayed)
    assert replayed is not None
    assert replayed.documents.keys() == space.documents.keys()
    assert replayed.grants[grant_id].revoked_at == NOW


def test_commands_validate_before_any_event(space: Space) -> None:
    space.collect_events()
    with pytest.raises(InvalidInput):
        space.grant(uuid4(), PATIENT, Scope.whole_space(), None, PATIENT, NOW)  # not a professional
    with pytest.raises(Forbidden):
        space.grant(uuid4(), DOCTOR, Scope.whole_space(), None, OTHER, NOW)  # not the patient
    with pytest.raises(InvalidInput):
        space.grant(uuid4(), DOCTOR, Scope.whole_space(), NOW - timedelta(seconds=1), PATIENT, NOW)
    with pytest.raises(InvalidInput):
        space.grant(
            uuid4(), DOCTOR, Scope("documents", documents=frozenset({uuid4()})), None, PATIENT, NOW
        )  # type: ignore[arg-type]
    with pytest.raises(UnknownGrant):
        space.revoke(uuid4(), PATIENT, NOW)
    with pytest.raises(InvalidInput):
        space.deposit(uuid4(), META, blob(), b"short", HOSPITAL, NOW)
    with pytest.raises(InvalidInput):
        space.deposit(uuid4(), META, blob(), b"\x02" * 80, HOSPITAL, NOW.replace(tzinfo=None))
    assert space.collect_events() == []


def test_a_grant_to_oneself_is_refused(space: Space) -> None:
    with pytest.raises(InvalidInput, match="oneself"):
        space.grant(uuid4(), DOCTOR, Scope.whole_space(), None, DOCTOR, NOW)
    assert space.collect_events()[1:] == []


def test_revoking_twice_is_a_conflict(space: Space) -> None:
    grant_id = uuid4()
    space.grant(grant_id, DOCTOR, Scope.whole_space(), None, PATIENT, NOW)
    space.revoke(grant_id, PATIENT, NOW)
    with pytest.raises(Conflict):
        space.revoke(grant_id, PATIENT, NOW)


def test_new_versions_come_from_the_author_or_the_patient(space: Space) -> None:
    document_id = uuid4()
    space.deposit(document_id, META, blob(), b"\x02" * 80, HOSPITAL, NOW)
    # A doctor who may not see the document is told it does not exist (no leak)...
    with pytest.raises(UnknownDocument):
        space.deposit(document_id, META, blob(), b"\x02" * 80, DOCTOR, NOW)
    # ...and one who may see it is still not its author.
    space.grant(uuid4(), DOCTOR, Scope.whole_space(), None, PATIENT, NOW)
    with pytest.raises(Conflict):
        space.deposit(document_id, META, blob(), b"\x02" * 80, DOCTOR, NOW)
    assert space.deposit(document_id, META, blob(), b"\x02" * 80, HOSPITAL, NOW).version == 2
    assert space.deposit(document_id, META, blob(), b"\x02" * 80, PATIENT, NOW).version == 3


def test_the_policy_in_order(space: Space) -> None:
    document_id = uuid4()
    space.deposit(document_id, META, blob(), b"\x02" * 80, HOSPITAL, NOW)
    assert decide_read(space, uuid4(), PATIENT, NOW).rule is Rule.UNKNOWN_DOCUMENT
    assert decide_read(space, document_id, PATIENT, NOW).mode is Mode.PATIENT
    assert decide_read(space, document_id, HOSPITAL, NOW).mode is Mode.AUTHOR
    assert decide_read(space, document_id, DOCTOR, NOW).rule is Rule.NOT_AUTHORISED
    space.grant(uuid4(), DOCTOR, Scope.whole_space(), NOW + timedelta(hours=1), PATIENT, NOW)
    assert decide_read(space, document_id, DOCTOR, NOW).mode is Mode.GRANT
    assert (
        decide_read(space, document_id, DOCTOR, NOW + timedelta(hours=1)).rule
        is Rule.NOT_AUTHORISED
    )
    space.delete_document(document_id, PATIENT, NOW)
    assert decide_read(space, document_id, PATIENT, NOW).rule is Rule.DOCUMENT_DELETED
