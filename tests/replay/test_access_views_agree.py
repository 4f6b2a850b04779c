"""The access views and the aggregate give the same answers, on random histories.

Hypothesis draws a history of commands on one space (deposits, grants, changes,
revocations, the care team, blocks, the attending physician, settings, the three
confidentiality codes, emergency access, deletion, closure, time passing), keeps what the
domain accepts, projects the recorded events through ``AccessViewsProjection`` and asks,
for every (professional, document) pair at an instant after the history:

* the views list the professional among the document's readers exactly when
  ``decide_read`` on the aggregate allows them and they hold an active grant;
* ``decide_read`` on the facts the views kept gives the aggregate's decision, for every
  professional, the depositing service and the patient;
* the professional's spaces list this space exactly when the domain finds a grant in force.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.periods import Periods
from domain.reads import decide_read, grant_in_force
from domain.records import Setting
from domain.space import Space
from domain.values import (
    Actor,
    Ciphertext,
    Scope,
    ScopeKind,
    patient_id_from_number,
    professional_id_from_number,
)
from projections.access_views import AccessViews, AccessViewsProjection
from projections.store import SQLiteViewStore
from wire.errors import CoffreError
from wire.values import DocumentMetadata, DocumentType, Profession, Role

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERIODS = Periods()
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2850575123456"), "Patiente")
HOSPITAL = Actor(Role.SERVICE, "chu-nantes", "CHU de Nantes")


def _pro(number: str, profession: Profession) -> Actor:
    return Actor(Role.PROFESSIONAL, professional_id_from_number(number), number, profession)


PROS = [
    _pro("2000000001", Profession.DOCTOR),
    _pro("2000000002", Profession.DOCTOR),
    _pro("2000000003", Profession.NURSE),
    _pro("2000000004", Profession.PHARMACIST),
    _pro("2000000005", Profession.SOCIAL_WORKER),
]
DEPOSITORS = [*PROS, HOSPITAL, PATIENT]
TYPES = [
    DocumentType.LAB_RESULT,
    DocumentType.PSYCHIATRIC_SUMMARY,
    DocumentType.PRESCRIPTION,
    DocumentType.SOCIAL_CARE,
]
ACTIONS = [
    "deposit",
    "deposit",
    "deposit",
    "grant",
    "grant",
    "grant",
    "mask",
    "care_team",
    "revoke",
    "block",
    "unblock",
    "physician",
    "setting",
    "mask",
    "unmask",
    "hide",
    "hold",
    "release",
    "emergency",
    "delete",
    "wait",
    "close",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteViewStore]:
    """A view store with the access views' tables (and the access log's, which the
    migration naming the codes renames with them)."""
    path = tmp_path_factory.mktemp("views") / "views.sqlite"
    with closing(sqlite3.connect(path)) as db:
        for name in (
            "0002.access_log.sql",
            "0005.access_rules.sql",
            "0007.access_views.sql",
            "0011.access_view_facts.sql",
            "0012.confidentiality_names.sql",
        ):
            db.executescript((ROOT / "migrations/sqlite" / name).read_text())
    yield SQLiteViewStore(str(path))


class History:
    """Commands on one space; whatever the domain refuses records nothing."""

    def __init__(self, pending: bool) -> None:
        self.now = T0
        code = {"digest": "x"} if pending else None
        opens_at = T0 + timedelta(days=2) if pending else None
        self.space = Space.provision(
            PATIENT.id, "key", b"\x01" * 32, HOSPITAL, T0, code=code, opens_at=opens_at
        )
        self.documents: list[UUID] = []

    def document(self, index: int) -> UUID:
        return self.documents[index % len(self.documents)] if self.documents else uuid4()

    def run(self, action: str, a: int, b: int, c: int) -> None:
        space, now = self.space, self.now
        pro = PROS[a % len(PROS)]
        holder = PATIENT
        try:
            if action == "deposit":
                document_id = uuid4()
                author = DEPOSITORS[a % len(DEPOSITORS)]
                metadata = DocumentMetadata(TYPES[b % len(TYPES)], "Titre", date(2026, 1, 1))
                space.deposit(
                    document_id, metadata, Ciphertext(uuid4().hex, 1, "a" * 64), b"\x02" * 80,
                    author, now,
                )  # fmt: skip
                self.documents.append(document_id)
                if c % 3 == 0 and author.role is not Role.PATIENT:
                    space.set_codes_at_deposit(
                        document_id, masked=c % 2 == 0, hidden_from_representatives=c % 4 == 0,
                        held=c % 5 == 0, periods=PERIODS, actor=author, at=now,
                    )  # fmt: skip
            elif action == "grant":
                if c % 3 == 0:
                    scope = Scope.whole_space()
                elif c % 3 == 1:
                    scope = Scope(ScopeKind.TYPES, frozenset({TYPES[b % len(TYPES)]}))
                else:
                    scope = Scope(ScopeKind.DOCUMENTS, documents=frozenset({self.document(b)}))
                expires = now + timedelta(hours=1 + c) if b % 2 else None
                space.grant(uuid4(), pro, scope, expires, holder, now)
            elif action == "care_team":
                expires = now + timedelta(hours=2 + b) if c % 2 else None
                space.add_to_care_team(uuid4(), pro, expires, HOSPITAL, now)
            elif action == "revoke":
                space.revoke_professional(pro.id, holder, now)
            elif action == "block":
                space.block(pro, holder, now)
            elif action == "unblock":
                space.unblock(pro.id, holder, now)
            elif action == "physician":
                space.designate_attending_physician(pro if b % 3 else None, holder, now)
            elif action == "setting":
                setting = list(Setting)[b % len(Setting)]
                space.change_setting(setting, c % 2 == 0, holder, now)
            elif action == "mask":
                space.mask(self.document(b), holder, now)
            elif action == "unmask":
                space.unmask(self.document(b), holder, now)
            elif action == "hide":
                space.hide_from_representatives(self.document(b), holder, now)
            elif action == "hold":
                document = space.documents.get(self.document(b))
                if document is not None:
                    space.hold_for_announcement(document.id, PERIODS, document.author, now)
            elif action == "release":
                document = space.documents.get(self.document(b))
                if document is not None:
                    space.release_to_patient(document.id, document.author, now)
            elif action == "emergency":
                space.invoke_emergency_access(uuid4(), "Patient inconscient", PERIODS, pro, now)
            elif action == "delete":
                space.delete_document(self.document(b), holder, now)
            elif action == "wait":
                self.now = now + timedelta(hours=[1, 13, 30, 24 * 20][b % 4])
                space.apply_due(self.now)
            elif action == "close" and c % 4 == 0:
                space.close(PERIODS, False, holder, now)
        except CoffreError:
            pass  # refused: nothing recorded


def project(store: SQLiteViewStore, space: Space) -> AccessViews:
    """The views of this space only, built from its recorded events."""
    events = space.collect_events()
    with store.transaction() as cursor:
        for table in AccessViewsProjection.tables:
            cursor.execute(f"DELETE FROM {table}")
        AccessViewsProjection().apply(cursor, list(enumerate(events, start=1)))
    return AccessViews(store)


steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(0, 11),
        st.integers(0, 11),
        st.integers(0, 11),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pending=st.booleans(), history=steps, later=st.sampled_from([0, 1, 20, 24 * 40]))
def test_the_access_views_agree_with_decide_read(
    store: SQLiteViewStore, pending: bool, history: list[tuple[str, int, int, int]], later: int
) -> None:
    story = History(pending)
    for step in history:
        story.run(*step)
    space = story.space
    views = project(store, space)
    now = story.now + timedelta(hours=later)
    facts = views.facts(space.id)
    assert facts is not None
    for document_id in space.documents:
        listed = {row["grantee"]["id"] for row in views.for_document(document_id, now)}
        for pro in PROS:
            decision = decide_read(space, document_id, pro, now)
            has_grant = space.grants.active_for(pro.id, now) is not None
            assert (pro.id in listed) == (decision.allowed and has_grant), (pro.id, decision)
        for actor in [*PROS, HOSPITAL, PATIENT]:
            decision = decide_read(space, document_id, actor, now)
            assert decide_read(facts, document_id, actor, now) == decision
            event(f"decision: {decision.mode or decision.rule}")
    for pro in PROS:
        mine = [row for row in views.for_professional(pro.id, now)]
        grant = grant_in_force(space, pro.id, now)
        assert [UUID(str(row["grant_id"])) for row in mine] == ([grant.id] if grant else [])
