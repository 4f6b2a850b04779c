"""Build the committed replay store: events recorded by the code of one commit.

Run once, on the code whose events are to be kept replayable, BEFORE the domain changes
(its imports follow the code since; the history it records does not change):

    .venv/bin/python -m tests.replay.make_store tests/replay/stores/0ff1b93

It writes ``coffre.db`` (an eventsourcing SQLite event store, as the vault's SQLite
backend records it) and ``expected.json`` (facts the code of that day derived from the
history: documents, grants, representatives, emergency accesses, read decisions).
``tests/replay/test_stored_events.py`` opens the store with today's code and compares.

The history touches every event type a space, an access record, a reader key record
and an inbox have, including ones today's commands no longer record
(``RepresentativeAdded``, grants stacked on one professional).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application

from domain.access import Access
from domain.inbox import Inbox
from domain.periods import Periods
from domain.reader import Reader
from domain.reads import decide_read
from domain.records import GrantBasis, RepresentativeKind, Setting
from domain.representatives import LegalBasis, Registry
from domain.space import Space
from domain.values import (
    Actor,
    Ciphertext,
    Scope,
    ScopeKind,
    patient_id_from_number,
    professional_id_from_number,
)
from tests.devices import register_legacy_key
from wire.values import DocumentMetadata, DocumentType, Profession, Role

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PERIODS = Periods()
REGISTRY = Registry(frozenset({"registry.civil"}))
CODE = {"alg": "test", "digest": "good"}

PATIENT_A = Actor(Role.PATIENT, patient_id_from_number("2140175123456"), "Alice Minor")
PATIENT_B = Actor(Role.PATIENT, patient_id_from_number("1850575123457"), "Bob Opposed")
PATIENT_C = Actor(Role.PATIENT, patient_id_from_number("1850575123458"), "Carla Closed")
PATIENT_D = Actor(Role.PATIENT, patient_id_from_number("1850575123459"), "Dan Opened")
PARENT = Actor(Role.REPRESENTATIVE, patient_id_from_number("1750575123451"), "Parent One")
GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1750575123452"), "Old Guardian")
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon")
PLATFORM = Actor(Role.SERVICE, "coffre-platform", "Platform")
REGISTRAR = Actor(Role.SERVICE, "registry.civil", "Civil registry")
REGULATOR = Actor(Role.REGULATOR, "cnil-audit", "Regulator")


def _pro(number: str, name: str, profession: Profession) -> Actor:
    return Actor(Role.PROFESSIONAL, professional_id_from_number(number), name, profession)


DOCTOR = _pro("1000000001", "Dr Author", Profession.DOCTOR)
GP = _pro("1000000002", "Dr Attending", Profession.DOCTOR)
NURSE = _pro("1000000003", "Nurse", Profession.NURSE)
PHARMACIST = _pro("1000000004", "Pharmacist", Profession.PHARMACIST)
SOCIAL = _pro("1000000005", "Social worker", Profession.SOCIAL_WORKER)
ER = _pro("1000000006", "Dr Emergency", Profession.DOCTOR)
STACKED = _pro("1000000007", "Dr Stacked", Profession.DOCTOR)

ACTORS = {
    "patient_a": PATIENT_A,
    "parent": PARENT,
    "guardian": GUARDIAN,
    "hospital": HOSPITAL,
    "doctor": DOCTOR,
    "gp": GP,
    "nurse": NURSE,
    "pharmacist": PHARMACIST,
    "social": SOCIAL,
    "er": ER,
    "stacked": STACKED,
    "regulator": REGULATOR,
}


def uid(name: str) -> UUID:
    """A stable id for a name of this history."""
    return uuid5(NAMESPACE_URL, f"https://coffre.invalid/replay/{name}")


def check(code: str, stored: Any) -> bool:
    """The code check the history uses (the vault passes ``keys.codes.verify_code``)."""
    return code == stored["digest"]


def blob(name: str) -> Ciphertext:
    """A ciphertext reference (no blob exists: only events are kept)."""
    return Ciphertext(uid(name).hex, 100, "a" * 64)


def meta(kind: DocumentType, title: str) -> DocumentMetadata:
    """A document's metadata."""
    return DocumentMetadata(kind, title, date(2025, 12, 1))


SEALED = b"\x02" * 80
PUBLIC = b"\x01" * 32


def at(hours: float) -> datetime:
    """``hours`` after the history's start."""
    return T0 + timedelta(hours=hours)


def space_a() -> Space:
    """A minor's space: every document, grant, rule and representative event."""
    space = Space.provision(
        PATIENT_A.id,
        "key-a",
        PUBLIC,
        PLATFORM,
        at(0),
        code=CODE,
        opens_at=at(24 * 42),
        birth_date=date(2014, 1, 17),
    )
    assert not space.activate("wrong", check, PATIENT_A, at(1))  # CodeRejected
    assert space.activate("good", check, PATIENT_A, at(2))  # Activated
    space.add_representative(
        PARENT,
        RepresentativeKind.PARENT,
        None,
        PERIODS,
        REGISTRAR,
        at(3),
        basis=LegalBasis("AN-2014-0117", date(2014, 1, 20)),
        registry=REGISTRY,
    )
    # The event appointments were recorded as before they carried a legal basis.
    space.trigger_event(
        Space.RepresentativeAdded,
        representative=GUARDIAN.to_dict(),
        kind=RepresentativeKind.GUARDIAN.value,
        until=None,
        actor=PLATFORM.to_dict(),
        at=at(3.5),
    )
    # d1: masked, secret from representatives, held for an announcement.
    space.deposit(uid("d1"), meta(DocumentType.LAB_RESULT, "d1"), blob("d1"), SEALED, DOCTOR, at(4))
    space.set_codes_at_deposit(
        uid("d1"),
        masked=True,
        hidden_from_representatives=True,
        held=True,
        periods=PERIODS,
        actor=DOCTOR,
        at=at(4),
    )
    # d2: two versions by the hospital, a psychiatric summary.
    space.deposit(
        uid("d2"),
        meta(DocumentType.PSYCHIATRIC_SUMMARY, "d2"),
        blob("d2v1"),
        SEALED,
        HOSPITAL,
        at(5),
    )
    space.deposit(
        uid("d2"),
        meta(DocumentType.PSYCHIATRIC_SUMMARY, "d2 v2"),
        blob("d2v2"),
        SEALED,
        HOSPITAL,
        at(6),
    )
    # d3: a prescription by the patient's parent, deleted later.
    space.deposit(
        uid("d3"), meta(DocumentType.PRESCRIPTION, "d3"), blob("d3"), SEALED, PARENT, at(7)
    )
    # d4: a note by the patient, masked then unmasked; d5: held then released early.
    space.deposit(
        uid("d4"), meta(DocumentType.PATIENT_NOTE, "d4"), blob("d4"), SEALED, PATIENT_A, at(8)
    )
    space.mask(uid("d4"), PATIENT_A, at(8.5))
    space.unmask(uid("d4"), PATIENT_A, at(9))
    space.mask(uid("d4"), PARENT, at(9.5))
    space.deposit(
        uid("d5"), meta(DocumentType.IMAGING_REPORT, "d5"), blob("d5"), SEALED, DOCTOR, at(10)
    )
    space.hold_for_announcement(uid("d5"), PERIODS, DOCTOR, at(10))
    space.release_to_patient(uid("d5"), DOCTOR, at(11))
    space.hide_from_representatives(uid("d5"), PATIENT_A, at(11.5))
    # Grants: granted, granted again (GrantChanged), revoked by professional.
    space.grant(uid("g-nurse"), NURSE, Scope.whole_space(), None, PATIENT_A, at(12))
    space.grant(
        uid("g-nurse-2"),
        NURSE,
        Scope(
            ScopeKind.TYPES,
            frozenset({DocumentType.PSYCHIATRIC_SUMMARY, DocumentType.PRESCRIPTION}),
        ),
        at(24 * 400),
        PARENT,
        at(13),
    )
    space.grant(
        uid("g-pharma"),
        PHARMACIST,
        Scope(ScopeKind.DOCUMENTS, documents=frozenset({uid("d3"), uid("d4")})),
        None,
        PATIENT_A,
        at(14),
    )
    space.grant(uid("g-social"), SOCIAL, Scope.whole_space(), None, PATIENT_A, at(15))
    space.revoke(uid("g-social"), PATIENT_A, at(16))
    space.grant(uid("g-social-2"), SOCIAL, Scope.whole_space(), None, PATIENT_A, at(16.5))
    # Stacked grants, as streams recorded before "one grant per professional" hold.
    for number, hours in ((1, 18), (2, 19)):
        space.trigger_event(
            Space.Granted,
            grant_id=uid(f"g-stacked-{number}"),
            grantee=STACKED.to_dict(),
            scope=Scope(ScopeKind.TYPES, frozenset({DocumentType.LAB_RESULT})).to_dict()
            if number == 1
            else Scope.whole_space().to_dict(),
            expires_at=None,
            actor=PATIENT_A.to_dict(),
            at=at(hours),
        )
    space.add_to_care_team(uid("g-gp"), GP, None, HOSPITAL, at(20))
    space.add_to_care_team(uid("g-doctor-ct"), DOCTOR, at(24 * 30), HOSPITAL, at(20.5))
    # Blocks, the attending physician, settings.
    space.block(PHARMACIST, PATIENT_A, at(21))
    space.unblock(PHARMACIST.id, PATIENT_A, at(21.5))
    space.block(SOCIAL, PARENT, at(22))
    space.designate_attending_physician(GP, PATIENT_A, at(23))
    space.change_setting(Setting.ATTENDING_PHYSICIAN_SEES_MASKED, True, PATIENT_A, at(23.5))
    space.change_setting(Setting.EMERGENCY_REVEALS_MASKED, True, PATIENT_A, at(24))
    # Emergency access: invoked, then forbidden and refused, then allowed again.
    assert space.invoke_emergency_access(
        uid("e1"), "Unconscious patient, allergies needed", PERIODS, ER, at(25)
    )
    space.change_setting(Setting.EMERGENCY_ACCESS_FORBIDDEN, True, PATIENT_A, at(26))
    assert not space.invoke_emergency_access(
        uid("e2"), "Second emergency, forbidden now", PERIODS, ER, at(27)
    )
    space.change_setting(Setting.EMERGENCY_ACCESS_FORBIDDEN, False, PARENT, at(27.5))
    # d6: held, the scheduler sends the notice then releases it.
    space.deposit(
        uid("d6"), meta(DocumentType.HOSPITAL_REPORT, "d6"), blob("d6"), SEALED, HOSPITAL, at(28)
    )
    space.set_codes_at_deposit(
        uid("d6"),
        masked=False,
        hidden_from_representatives=False,
        held=True,
        periods=PERIODS,
        actor=HOSPITAL,
        at=at(28),
    )
    space.apply_due(at(28 + 24 * 15))  # AnnouncementNoticeSent (d1, d6)
    space.apply_due(at(28 + 24 * 32))  # ReleasedToPatient (d1, d6)
    space.delete_document(uid("d3"), PATIENT_A, at(28 + 24 * 33))
    space.revoke_professional(PHARMACIST.id, PATIENT_A, at(28 + 24 * 34))
    space.end_representation(GUARDIAN.id, "revoked", REGISTRAR, at(28 + 24 * 35), registry=REGISTRY)
    # d7: held at the end, still invisible to the patient.
    space.deposit(
        uid("d7"), meta(DocumentType.LAB_RESULT, "d7"), blob("d7"), SEALED, DOCTOR, at(28 + 24 * 35)
    )
    space.hold_for_announcement(uid("d7"), PERIODS, DOCTOR, at(28 + 24 * 35))
    return space


def space_b() -> Space:
    """Opposed before opening, then re-opened on request."""
    space = Space.provision(
        PATIENT_B.id, "key-b", PUBLIC, PLATFORM, at(0), code=CODE, opens_at=at(24 * 42)
    )
    assert space.oppose("good", check, PATIENT_B, at(1))
    space.reopen("key-b", "AQEB" * 10 + "AQE=", CODE, PLATFORM, at(48))
    return space


def space_c() -> Space:
    """Open at once, closed, deleted early (shredded), then re-opened with a new key."""
    space = Space.provision(PATIENT_C.id, "key-c", PUBLIC, HOSPITAL, at(0))
    space.deposit(
        uid("c1"), meta(DocumentType.VACCINATION, "c1"), blob("c1"), SEALED, HOSPITAL, at(1)
    )
    space.grant(uid("g-c"), NURSE, Scope.whole_space(), None, PATIENT_C, at(2))
    space.close(PERIODS, False, PATIENT_C, at(3))
    space.request_deletion(PERIODS, PATIENT_C, at(4))
    assert space.apply_due(at(4)) == ["Shredded"]
    space.reopen("key-c2", "AgIC" * 10 + "AgI=", CODE, PLATFORM, at(5))
    return space


def space_d() -> Space:
    """Pending, opened by the scheduler at its deadline (``Opened``)."""
    space = Space.provision(
        PATIENT_D.id, "key-d", PUBLIC, PLATFORM, at(0), code=CODE, opens_at=at(24 * 42)
    )
    space.apply_due(at(24 * 43))
    return space


#: instants at which expected decisions are taken
MOMENTS = {
    "before_release": at(28 + 24 * 1),
    "after_release": at(28 + 24 * 33.5),
    "end": at(28 + 24 * 36),
}


def facts(space: Space) -> dict[str, Any]:
    """What the code of the day derives from a space's history."""
    documents = {
        str(d.id): {
            "type": d.type.value,
            "author": d.author.id,
            "versions": [v.title for v in d.versions],
            "deleted": d.deleted,
            "shredded": d.shredded,
            "masked": d.masked,
            "invisible_to_representatives": d.invisible_to_representatives,
            "invisible_to_patient": None
            if d.announcement is None
            else {
                "visible_at": d.announcement.visible_at.isoformat(),
                "notice_sent": d.announcement.notice_sent_at is not None,
                "released": d.announcement.released_at is not None,
            },
        }
        for d in space.documents.values()
    }
    grants = {
        str(g.id): {
            "grantee": g.grantee.id,
            "scope": g.scope.to_dict(),
            "basis": g.basis.value,
            "expires_at": g.expires_at.isoformat() if g.expires_at else None,
            "revoked": g.revoked_at is not None,
            "superseded": g.superseded_at is not None,
            "active_at_end": g.active(MOMENTS["end"]),
        }
        for g in space.grants.values()
    }
    representatives = {
        r.representative.id: {
            "kind": r.kind.value,
            "until": r.until.isoformat() if r.until else None,
            "ended": r.ended_at is not None,
            "end_reason": r.end_reason,
            "basis": r.basis,
        }
        for r in space.representatives.values()
    }
    decisions = {
        f"{moment}|{name}|{document}": _decision(space, uid_from(document), actor, when)
        for moment, when in MOMENTS.items()
        for name, actor in ACTORS.items()
        for document in documents
    }
    return {
        "patient_id": space.patient_id,
        "version": space.version,
        "status": space.status.value,
        "key_id": space.key_id,
        "blocked": sorted(space.blocked),
        "attending_physician": space.attending_physician.id if space.attending_physician else None,
        "settings": {s.value: v for s, v in space.settings.items()},
        "emergency_accesses": sorted(str(a) for a in space.emergency_accesses),
        "documents": documents,
        "grants": grants,
        "representatives": representatives,
        "decisions": decisions,
    }


def uid_from(text: str) -> UUID:
    """A document id from its text form."""
    return UUID(text)


def _decision(space: Space, document_id: UUID, actor: Actor, when: datetime) -> str:
    decision = decide_read(space, document_id, actor, when)
    if decision.allowed:
        assert decision.mode is not None
        return f"allow:{decision.mode.value}:{decision.grant_id or ''}"
    assert decision.rule is not None
    return f"refuse:{decision.rule.value}"


def build(directory: Path) -> dict[str, Any]:
    """Record the history into ``directory/coffre.db``; returns the expected facts."""
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "coffre.db"
    if database.exists():
        raise SystemExit(f"{database} exists: a replay store is made once, never remade")
    app: Application = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(database)}
    )
    spaces = {"a": space_a(), "b": space_b(), "c": space_c(), "d": space_d()}
    for space in spaces.values():
        app.save(space)
    a = spaces["a"]
    decision = decide_read(a, uid("d2"), GP, at(24))
    read = Access.record_read(a.id, uid("d2"), 2, GP, "k" * 32, decision, a.version, at(24))
    refused = Access.record_refusal(
        a.id, uid("d2"), NURSE, decide_read(a, uid("d2"), NURSE, at(24)), a.version, at(24)
    )
    log_read = Access.record_log_read(a.id, PATIENT_A, at(24))
    reader = Reader.for_actor(GP)
    key_id = register_legacy_key(reader, b"\x03" * 32, GP, at(1))  # Reader.register then
    inbox = Inbox.for_actor(PATIENT_A)
    inbox.acknowledge(3, 10, PATIENT_A, at(2))
    app.save(read, refused, log_read, reader, inbox)
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT DISTINCT topic FROM stored_events").fetchall()
    topics = sorted(row[0] for row in rows)
    return {
        "made_by": "0ff1b93",
        "spaces": {name: {"id": str(s.id), **facts(s)} for name, s in spaces.items()},
        "access": {
            "read": str(read.id),
            "refused": str(refused.id),
            "log_read": str(log_read.id),
        },
        "reader": {"id": str(reader.id), "key_id": key_id},
        "inbox": {"id": str(inbox.id), "up_to": inbox.up_to},
        "topics": topics,
        "grant_basis": [b.value for b in GrantBasis],
    }


def main(argv: list[str]) -> None:
    """``make_store DIRECTORY``: record the history and write ``expected.json``."""
    directory = Path(argv[1])
    expected = build(directory)
    (directory / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True))
    print(f"{len(expected['topics'])} event topics recorded in {directory}")


if __name__ == "__main__":
    main(sys.argv)
