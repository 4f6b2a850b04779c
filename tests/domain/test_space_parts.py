"""The parts of ``Space`` (life, confidentiality, access, due): pure domain, no storage.

Every new event replays to the same state and is stored under a ``Space.*`` topic;
commands validate before any event; the policy reads the state the events build.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from domain.key_bytes import SealedText
from domain.periods import Periods, add_months
from domain.reads import Rule, decide_read
from domain.records import Setting, SpaceStatus
from domain.representatives import LegalBasis, Registry
from domain.space import Space
from domain.values import Actor, Ciphertext, patient_id_from_number, professional_id_from_number
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownDocument
from wire.values import DocumentMetadata, DocumentType, Profession, Role

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MINOR = Actor(Role.PATIENT, patient_id_from_number("2100575123456"), "Léa")
PARENT = Actor(Role.REPRESENTATIVE, patient_id_from_number("2800575123457"), "Anne")
INSURER = Actor(Role.SERVICE, "cpam-69", "CPAM")
DOCTOR = Actor(
    Role.PROFESSIONAL, professional_id_from_number("1000000001"), "Dr A", Profession.DOCTOR
)
CODE = {"scheme": "test", "code": "OK"}
META = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 1))


def check(code: str, record: object) -> bool:
    return isinstance(record, dict) and record.get("code") == code


def pending() -> Space:
    space = Space.provision(
        MINOR.id,
        "key-1",
        b"\x01" * 32,
        INSURER,
        NOW,
        code=CODE,
        opens_at=NOW + timedelta(weeks=6),
        birth_date=date(2010, 5, 1),
    )
    space.add_representative(
        PARENT,
        "parent",  # type: ignore[arg-type]
        None,
        Periods(),
        INSURER,
        NOW,
        basis=LegalBasis("birth-act", date(2010, 5, 3)),
        registry=Registry(frozenset({INSURER.id})),
    )
    return space


def replayed(space: Space) -> Space:
    copy = None
    for stored in space.collect_events():
        copy = stored.mutate(copy)
    assert copy is not None
    return copy


def test_every_event_of_every_part_replays_and_is_a_space_event() -> None:
    space = pending()
    assert space.oppose("NO", check, PARENT, NOW) is False
    assert space.activate("OK", check, PARENT, NOW)  # activating before the deadline opens it
    document_id = uuid4()
    space.deposit(
        document_id, META, Ciphertext(uuid4().hex, 1, "a" * 64), b"\x02" * 80, INSURER, NOW
    )
    space.set_codes_at_deposit(
        document_id,
        masked=True,
        hidden_from_representatives=True,
        held=True,
        periods=Periods(),
        actor=INSURER,
        at=NOW,
    )
    space.block(DOCTOR, MINOR, NOW)
    space.designate_attending_physician(DOCTOR, PARENT, NOW)
    space.change_setting(Setting.EMERGENCY_REVEALS_MASKED, True, MINOR, NOW)
    space.add_to_care_team(uuid4(), DOCTOR, None, INSURER, NOW)
    assert space.invoke_emergency_access(uuid4(), "Inconscient, urgences", Periods(), DOCTOR, NOW)
    space.apply_due(add_months(NOW, 1))
    space.close(Periods(), True, MINOR, add_months(NOW, 1))
    space.apply_due(add_months(NOW, 1))
    events = space.pending_events
    assert all(get_topic(type(e)).startswith("domain.space:Space.") for e in events)
    copy = replayed(space)
    assert copy.status is SpaceStatus.DELETED and copy.shredded_keys == ["key-1"]
    assert copy.documents[document_id].deleted and copy.blocked.keys() == {DOCTOR.id}
    assert copy.settings[Setting.EMERGENCY_REVEALS_MASKED] is True
    assert copy.attending_physician == DOCTOR and copy.code_failures == 1


def test_commands_validate_before_any_event() -> None:
    space = pending()
    space.collect_events()
    with pytest.raises(Forbidden):
        space.oppose("OK", check, DOCTOR, NOW)
    with pytest.raises(Conflict):
        space.deposit(
            uuid4(), META, Ciphertext(uuid4().hex, 1, "a" * 64), b"\x02" * 80, INSURER, NOW
        )
    with pytest.raises(Conflict):
        space.close(Periods(), False, MINOR, NOW)  # not open yet
    with pytest.raises(InvalidInput):
        space.designate_attending_physician(
            Actor(
                Role.PROFESSIONAL, professional_id_from_number("1000000002"), "X", Profession.NURSE
            ),
            MINOR,
            NOW + timedelta(weeks=6),
        )
    with pytest.raises(UnknownDocument):
        space.mask(uuid4(), MINOR, NOW + timedelta(weeks=6))
    assert space.collect_events() == []


def test_time_alone_opens_ends_representation_and_releases() -> None:
    space = pending()
    document_id = uuid4()
    opens = NOW + timedelta(weeks=6)
    assert (
        decide_read(space, document_id, MINOR, opens - timedelta(seconds=1)).rule
        is Rule.SPACE_NOT_OPEN
    )
    space.deposit(
        document_id, META, Ciphertext(uuid4().hex, 1, "a" * 64), b"\x02" * 80, INSURER, opens
    )
    space.set_codes_at_deposit(
        document_id,
        masked=False,
        hidden_from_representatives=False,
        held=True,
        periods=Periods(),
        actor=INSURER,
        at=opens,
    )
    assert decide_read(space, document_id, PARENT, opens).rule is Rule.INVISIBLE_TO_PATIENT
    visible = add_months(opens, 1)
    assert decide_read(space, document_id, PARENT, visible).allowed
    majority = Periods().majority(date(2010, 5, 1))
    assert decide_read(space, document_id, PARENT, majority).rule is Rule.NOT_AUTHORISED
    assert space.apply_due(majority) == [
        "Opened",
        "AnnouncementNoticeSent",
        "ReleasedToPatient",
        "RepresentationEnded",
    ]
    assert space.apply_due(majority) == []


def test_an_old_space_without_a_life_cycle_is_open() -> None:
    space = Space.provision(MINOR.id, "key-1", b"\x01" * 32, INSURER, NOW)
    assert space.is_open(NOW) and replayed(space).status_at(NOW) is SpaceStatus.OPEN
    with pytest.raises(Conflict):
        Space.provision(MINOR.id, "k", b"\x01" * 32, INSURER, NOW).activate("x", check, MINOR, NOW)


def test_an_appointment_seals_the_name_and_act_or_keeps_the_earlier_shape() -> None:
    """With ``seal`` (the vault's: to the space key), the name and the act's reference
    are recorded as boxes under one ``text_key``; the id, kind and act stay clear.
    Without, the event is shaped as appointments always were (no ``text_key``)."""

    def seal(text: str) -> SealedText:
        return SealedText("key-1", f"box of {len(text)}")

    space = pending()
    guardian = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575123459"), "Paul")
    space.add_representative(
        guardian,
        "guardian",  # type: ignore[arg-type]
        None,
        Periods(),
        INSURER,
        NOW,
        basis=LegalBasis("TJ Lyon RG 24/01234", date(2026, 10, 12)),
        registry=Registry(frozenset({INSURER.id})),
        seal=seal,
    )
    clear, sealed = [e for e in space.pending_events if type(e) is Space.RepresentativeAppointed]
    assert "text_key" not in clear.__dict__ and clear.representative["name"] == PARENT.name
    assert sealed.text_key == "key-1"
    assert (
        sealed.representative["name"] == "box of 4" and sealed.representative["id"] == guardian.id
    )
    assert sealed.basis == {"act": "court_decision", "reference": "box of 19", "date": "2026-10-12"}
    copy = replayed(space)
    kept = copy.representatives[guardian.id]
    assert kept.name == SealedText("key-1", "box of 4") and kept.representative.name == ""
    assert kept.basis is not None and kept.basis["reference"] == SealedText("key-1", "box of 19")
    assert copy.representatives[PARENT.id].name == PARENT.name
    assert copy.representatives[PARENT.id].basis == {
        "act": "birth_registration",
        "reference": "birth-act",
        "date": "2010-05-03",
    }
