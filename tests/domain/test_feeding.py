"""Idempotent feeding, the domain's rule (``DocumentCommands.prior_deposit``): a source
identifier names one document for its depositor; the same identifier with the same
ciphertext is that deposit again (nothing recorded), with other content a conflict
naming the document, or a new version of it when the deposit names it."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.space import Space
from domain.values import Actor, Ciphertext
from tests.domain.test_space import HOSPITAL, META, NOW, PATIENT
from wire import values
from wire.errors import AlreadyDeposited, Conflict, InvalidInput
from wire.values import Role, SourceId

CLINIC = Actor(Role.SERVICE, "clinique-est", "Clinique de l'Est")
SEALED = b"\x02" * 80
SOURCE = SourceId("urn:oid:1.2.250.1.213.1.1.9", "CR-2026-000123")


def upload(content: str = "a") -> Ciphertext:
    """A fresh upload (its own blob) of a ciphertext hashing to ``content`` * 64."""
    return Ciphertext(uuid4().hex, 100, content * 64)


@pytest.fixture
def space() -> Space:
    space = Space.provision(PATIENT.id, "key-1", b"\x01" * 32, HOSPITAL, NOW)
    space.collect_events()
    return space


def feed(
    space: Space,
    ciphertext: Ciphertext,
    source: SourceId | None = SOURCE,
    by: Actor = HOSPITAL,
    document_id: UUID | None = None,
) -> Any:
    """Deposit as the vault does: a fresh id unless the deposit names a document."""
    return space.deposit(document_id or uuid4(), META, ciphertext, SEALED, by, NOW, source)


def recorded(space: Space) -> list[str]:
    return [type(event).__name__ for event in space.collect_events()]


def test_a_first_deposit_records_its_source_identifier(space: Space) -> None:
    first = feed(space, upload())
    assert first.recorded and first.version == 1
    (event,) = space.collect_events()
    assert event.source == {"system": SOURCE.system, "value": SOURCE.value}  # type: ignore[attr-defined]
    assert space.documents[first.document_id].current.source == SOURCE


def test_the_same_identifier_and_ciphertext_is_the_same_deposit_again(space: Space) -> None:
    original = upload()
    first = feed(space, original)
    recorded(space)
    # the same receipt sent again (a retry)...
    again = feed(space, original)
    # ...or the same ciphertext uploaded again (its own blob, the same hash)
    copy = feed(space, upload())
    for repeat in (again, copy):
        assert (repeat.document_id, repeat.version) == (first.document_id, 1)
        assert not repeat.recorded
        assert repeat.blob == original.blob  # the blob the document names, not the copy
    assert recorded(space) == []
    assert len(space.documents) == 1


def test_the_same_identifier_with_other_content_names_the_document(space: Space) -> None:
    first = feed(space, upload("a"))
    recorded(space)
    with pytest.raises(AlreadyDeposited) as refused:
        feed(space, upload("b"))
    assert refused.value.document_id == str(first.document_id)
    assert str(first.document_id) in refused.value.detail
    assert isinstance(refused.value, Conflict)
    assert recorded(space) == []


def test_naming_the_document_replaces_it_with_a_new_version(space: Space) -> None:
    first = feed(space, upload("a"))
    replacement = upload("b")
    second = feed(space, replacement, document_id=first.document_id)
    assert (second.document_id, second.version, second.recorded) == (first.document_id, 2, True)
    assert space.documents[first.document_id].current.source == SOURCE
    recorded(space)
    # the replacement retried, and a late retry of the original: each is its own version
    assert feed(space, replacement, document_id=first.document_id).version == 2
    late = feed(space, upload("a"))
    assert (late.document_id, late.version, late.recorded) == (first.document_id, 1, False)
    assert recorded(space) == []


def test_an_identifier_names_one_document_even_when_the_deposit_names_another(
    space: Space,
) -> None:
    first = feed(space, upload("a"))
    other = feed(space, upload("c"), source=None)
    with pytest.raises(AlreadyDeposited) as refused:
        feed(space, upload("b"), document_id=other.document_id)
    assert refused.value.document_id == str(first.document_id)


def test_identifiers_are_each_depositors_own(space: Space) -> None:
    # Another depositor's identical identifier is another document: it neither matches
    # nor reveals a document of the hospital's.
    mine = feed(space, upload("a"))
    theirs = feed(space, upload("a"), by=CLINIC)
    assert theirs.recorded and theirs.document_id != mine.document_id
    assert feed(space, upload("a"), by=CLINIC).document_id == theirs.document_id


def test_an_upload_is_deposited_once_and_the_refusal_names_its_document(space: Space) -> None:
    original = upload()
    first = feed(space, original, source=None)
    with pytest.raises(AlreadyDeposited) as refused:
        feed(space, original, source=None)
    assert refused.value.document_id == str(first.document_id)
    # nor may the same upload come back under a source identifier it was not deposited with
    with pytest.raises(AlreadyDeposited):
        feed(space, original)


def test_a_deleted_document_keeps_its_identifier(space: Space) -> None:
    first = feed(space, upload("a"))
    space.delete_document(first.document_id, PATIENT, NOW)
    recorded(space)
    # a retry does not bring it back; other content is refused; so is a new version
    assert feed(space, upload("a")).document_id == first.document_id
    with pytest.raises(AlreadyDeposited):
        feed(space, upload("b"))
    with pytest.raises(Conflict, match="deleted"):
        feed(space, upload("b"), document_id=first.document_id)
    assert recorded(space) == []


def test_the_identifier_survives_a_replay() -> None:
    events = [*Space.provision(PATIENT.id, "key-1", b"\x01" * 32, HOSPITAL, NOW).collect_events()]
    fresh = events[0].mutate(None)
    first = feed(fresh, upload("a"))
    events += fresh.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Space)
    assert feed(replayed, upload("a")).document_id == first.document_id


def test_a_deposit_without_an_identifier_is_stored_as_deposits_always_were() -> None:
    # Events stored before source identifiers existed have no ``source`` key; one
    # recorded without an identifier today has none either (so its trail digest is
    # shaped as before), and both replay with none; one with an identifier keeps it.
    mapper = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    space = Space.provision(PATIENT.id, "key-1", b"\x01" * 32, HOSPITAL, NOW)
    plain = feed(space, upload("a"), source=None)
    sourced = feed(space, upload("b"))
    stored = [mapper.to_stored_event(e) for e in space.collect_events()]
    states = [mapper.transcoder.decode(e.state) for e in stored[-2:]]
    assert "source" not in states[0]
    assert states[1]["source"] == SOURCE.to_dict()
    replayed = None
    for event in stored:
        replayed = mapper.to_domain_event(event).mutate(replayed)  # type: ignore[attr-defined]
    assert isinstance(replayed, Space)
    assert replayed.documents[plain.document_id].current.source is None
    assert replayed.documents[sourced.document_id].current.source == SOURCE


@pytest.mark.parametrize(
    ("system", "value", "field"),
    [
        ("", "x", "source_id.system"),
        ("no scheme", "x", "source_id.system"),
        ("urn:oid:1.2 3", "x", "source_id.system"),
        ("urn:oid:1.2|3", "x", "source_id.system"),
        ("urn:oid:1.2\n", "x", "source_id.system"),
        ("urn:é", "x", "source_id.system"),
        ("urn:" + "1" * values.SOURCE_SYSTEM_MAX, "x", "source_id.system"),
        (None, "x", "source_id.system"),
        ("urn:oid:1.2", "", "source_id.value"),
        ("urn:oid:1.2", "   ", "source_id.value"),
        ("urn:oid:1.2", "CR\x00-1", "source_id.value"),
        ("urn:oid:1.2", "CR\u202e1", "source_id.value"),
        ("urn:oid:1.2", "x" * (values.SOURCE_VALUE_MAX + 1), "source_id.value"),
        ("urn:oid:1.2", 42, "source_id.value"),
    ],
)
def test_a_malformed_source_identifier_is_refused(system: Any, value: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        SourceId(system, value)
    assert refused.value.field == field


def test_source_identifiers_are_uris_and_text() -> None:
    assert SourceId("https://chu.example/ids?kind=cr#x", " CR 42 ").value == "CR 42"
    assert SourceId("urn:oid:1.2.250.1.213.1.1.9", "1.2.3^CR-1").system.startswith("urn:oid:")
    assert (
        SourceId("urn:oid:1", "x" * values.SOURCE_VALUE_MAX).value == "x" * values.SOURCE_VALUE_MAX
    )
