"""Random histories through the REAL vault on PostgreSQL + S3, checked against the model.

Each example is a new patient (a minor with a parent, or an adult) in one shared Coffre;
steps are drawn from provisioning's aftermath — opposition, activation, deposits with
confidentiality codes, grants, care team, revocations, masks, blocks, the attending
physician, settings, representation ending, emergency accesses, announcement releases,
clock jumps (each followed by a scheduler run), closures, re-openings — and reads and
listings by everyone. Every command must succeed or fail exactly as ``tests/rules/model``
says; every read must be allowed (with the same ``how``) or refused naming the same
rule, and a refused read must look exactly like a read of a document that does not
exist. Allowed reads are real key releases: the released key must be the document's.
"""

from __future__ import annotations

import base64
import os
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from nacl.public import PrivateKey

from coffre.bootstrap import Coffre
from domain.representatives import LegalBasis
from domain.values import Actor, Scope, patient_id_from_number, professional_id_from_number
from keys.codes import CodeHasher
from tests.devices import enrol
from tests.rules.conftest import REGISTRY, T0, SetClock
from tests.rules.model import Step, outcome
from vault.confidentiality import Confidentiality
from vault.scheduler import Scheduler
from wire.envelope import DataKey, encrypt, seal, unseal
from wire.errors import CoffreError, UnknownDocument, UnknownSpace
from wire.values import DocumentMetadata, Profession, Role

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

EXAMPLES = int(os.environ.get("COFFRE_RULES_EXAMPLES", "1000"))
STEPS = 15

HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
LAB = Actor(Role.SERVICE, "labo-bio", "Laboratoire Bio")
REGULATOR = Actor(Role.REGULATOR, "cnil", "CNIL")


def _pro(n: str, name: str, profession: Profession) -> Actor:
    return Actor(Role.PROFESSIONAL, professional_id_from_number(n), name, profession, "Cabinet")


FIXED = {
    "hospital": HOSPITAL,
    "lab": LAB,
    "regulator": REGULATOR,
    "doc_a": _pro("2000000001", "Dr Alice Aubert", Profession.DOCTOR),
    "doc_b": _pro("2000000002", "Dr Bruno Blanc", Profession.DOCTOR),
    "dentist": _pro("2000000003", "Dr Chloé Caron", Profession.DENTIST),
    "nurse": _pro("2000000004", "Denis Dupuis", Profession.NURSE),
    "social": _pro("2000000005", "Emma Faure", Profession.SOCIAL_WORKER),
}
PROS = ["doc_a", "doc_b", "dentist", "nurse", "social"]
#: who reads: the patient's side and the author first (the early, small examples), then
#: every professional, service and the regulator
READERS = ["patient", "doc_a", "parent", "nurse", "dentist", "social", "doc_b", "hospital"]
READERS += ["lab", "regulator"]
HOLDERS = ["patient", "parent", "doc_b"]  # doc_b: someone who is not a holder
TYPES = ["lab_result", "psychiatric_summary", "social_care", "imaging_report", "prescription"]
JUMPS = [
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=15),
    timedelta(weeks=6),
    timedelta(days=31),
    timedelta(days=366),
    timedelta(days=365 * 11),
]
SETTINGS = [
    "emergency_access_forbidden",
    "emergency_reveals_masked",
    "attending_physician_sees_masked",
]
#: a deposit: author, type, and its codes (masked, held for announcement, secret)
DOCUMENTS = st.tuples(
    st.sampled_from(["hospital", "doc_a", "patient", "parent"]),
    st.sampled_from(TYPES),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
#: how a professional may come to read, at the start of an example
ACCESS = ["grant", "care_team", "emergency"]
#: when a minor comes of age, counted from the start of the example
MAJORITY_IN = [timedelta(days=20), timedelta(days=60), timedelta(days=400)]

_counter = iter(range(10**6))
#: what the examples did, printed at the end: (step kind, outcome) -> count
STATS: Counter[tuple[str, str]] = Counter()
_keys: dict[tuple[str, str], tuple[PrivateKey, str]] = {}


def _outcome_of(call: Any) -> str:
    try:
        call()
    except CoffreError as error:
        return type(error).__name__
    return "ok"


def _majority(birth: date) -> datetime:
    # Restated here rather than imported: midnight in Paris on the 18th birthday.
    day = birth.replace(year=birth.year + 18)
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Paris"))


def run_machine(coffre: Coffre, clock: SetClock) -> None:
    """Define and run the state machine over ``coffre``."""
    vault = coffre.vault

    def key_for(actor: Actor) -> tuple[PrivateKey, str]:
        cached = _keys.get((actor.role.value, actor.id))
        if cached is None:
            cached = enrol(vault, actor)
            _keys[(actor.role.value, actor.id)] = cached
        return cached

    for actor in FIXED.values():
        key_for(actor)

    class Rules(RuleBasedStateMachine):
        """One patient's history, step by step, real vault against model."""

        def __init__(self) -> None:
            super().__init__()
            self.history: list[Step] = []
            self.docs: list[str] = []
            self.data_keys: dict[str, DataKey] = {}
            self.grants: list[str] = []
            self.code = ""

        # -- helpers -------------------------------------------------------------

        def actor(self, name: str) -> Actor:
            return self.people[name] if name in self.people else FIXED[name]

        def check(self, kind: str, by: str | None, real: Any, **args: Any) -> None:
            self.history.append(Step(kind, clock.now(), by, args))
            expected = outcome(self.history)
            shown = real[1] if isinstance(real, tuple) else real
            STATS[(kind, f"{len(shown)} listed" if isinstance(shown, frozenset) else shown)] += 1
            assert real == expected, f"{kind} by {by} {args}: vault {real!r}, model {expected!r}"

        def doc(self, index: int) -> str:
            # index 5 (or no document yet): one that never existed; else one of them
            if not self.docs or index >= 5:
                return str(uuid4())
            return self.docs[index % len(self.docs)]

        # -- the start of every example ------------------------------------------

        @initialize(
            minor=st.booleans(),
            majority=st.sampled_from(MAJORITY_IN),
            start=st.sampled_from(["open", "activated", "open", "pending"]),
            documents=st.lists(DOCUMENTS, min_size=1, max_size=3),
            access=st.lists(st.tuples(st.sampled_from(PROS), st.sampled_from(ACCESS)), max_size=2),
        )
        def provision(
            self,
            minor: bool,
            majority: timedelta,
            start: str,
            documents: list[tuple[str, str, bool, bool, bool]],
            access: list[tuple[str, str]],
        ) -> None:
            clock.set(T0)
            self.scheduler = Scheduler(vault, start=vault.recorder.max_notification_id() or 0)
            n = next(_counter)
            patient_id = patient_id_from_number(f"18505{75 + n // 10**6:02d}{n:06d}")
            self.patient_id = patient_id
            self.people = {
                "patient": Actor(Role.PATIENT, patient_id, "Patient"),
                "parent": Actor(
                    Role.REPRESENTATIVE, patient_id_from_number(f"26203{75:02d}{n:06d}"), "Parent"
                ),
            }
            birth = (T0 + majority).date().replace(year=(T0 + majority).year - 18)
            provisioned = vault.provision(
                patient_id, HOSPITAL, birth_date=birth if minor else date(1985, 5, 1)
            )
            self.code = provisioned.one_time_code
            if minor:
                vault.add_representative(
                    patient_id,
                    self.people["parent"],
                    "parent",
                    REGISTRY,
                    basis=LegalBasis("birth-act", clock.now().date()),
                )
            for name in ("patient", "parent"):
                key_for(self.people[name])
            self.check(
                "provision",
                "hospital",
                "ok",
                majority=_majority(birth) if minor else None,
                parent=minor,
            )
            # Most histories start where the rules are interesting: an open space with
            # a few documents (the same steps the rules below take, so checked too).
            if start != "pending":
                self.tick(3)
            if start == "activated":
                self.activate("patient", True)
            for document in documents:
                self.deposit(*document)
            for pro, how in access:
                if how == "grant":
                    self.grant("patient", pro, "space", TYPES[0], 0, False)
                elif how == "care_team":
                    self.care_team(pro, False)
                else:
                    self.emergency(pro)

        # -- time ----------------------------------------------------------------

        @rule(jump=st.integers(0, len(JUMPS) - 1))
        def tick(self, jump: int) -> None:
            clock.set(clock.now() + JUMPS[jump])
            report = self.scheduler.run_once()
            assert not report.failed
            self.check("tick", None, "ok")

        # -- life ----------------------------------------------------------------

        @rule(by=st.sampled_from(HOLDERS), good=st.booleans())
        def oppose(self, by: str, good: bool) -> None:
            code = self.code if good else "WRONG-CODE0"
            real = _outcome_of(lambda: vault.oppose(self.patient_id, code, self.actor(by)))
            self.check("oppose", by, real, good=good)

        @rule(by=st.sampled_from(HOLDERS), good=st.booleans())
        def activate(self, by: str, good: bool) -> None:
            code = self.code if good else "WRONG-CODE0"
            real = _outcome_of(lambda: vault.activate(self.patient_id, code, self.actor(by)))
            self.check("activate", by, real, good=good)

        @rule(by=st.sampled_from(["patient", "parent"]), express=st.booleans())
        def close(self, by: str, express: bool) -> None:
            real = _outcome_of(
                lambda: vault.close_space(self.patient_id, self.actor(by), express_deletion=express)
            )
            self.check("close", by, real, express=express)

        @rule()
        def reopen(self) -> None:
            result: list[str] = []
            real = _outcome_of(
                lambda: result.append(vault.reopen(self.patient_id, HOSPITAL).one_time_code)
            )
            if result:
                self.code = result[0]
            self.check("reopen", "hospital", real)

        # -- documents -----------------------------------------------------------

        @rule(document=DOCUMENTS)
        def deposit_one(self, document: tuple[str, str, bool, bool, bool]) -> None:
            self.deposit(*document)

        def deposit(self, author: str, type: str, masked: bool, held: bool, secret: bool) -> None:
            if author not in ("hospital", "doc_a"):
                masked = held = secret = False
            actor, key = self.actor(author), DataKey.generate()
            made: list[UUID] = []

            def call() -> None:
                receipt = vault.upload(self.patient_id, encrypt([b"x" * 64], key), actor)
                public = base64.b64decode(vault.space_key(self.patient_id).public_key)
                made.append(
                    vault.deposit(
                        self.patient_id,
                        receipt.ticket,
                        DocumentMetadata(type, "Document", date(2026, 10, 1)),  # type: ignore[arg-type]
                        seal(key, public),
                        actor,
                        confidentiality=Confidentiality(masked, held, secret),
                    ).document_id
                )

            real = _outcome_of(call)
            doc = str(made[0]) if made else str(uuid4())
            if made:
                self.docs.append(doc)
                self.data_keys[doc] = key
            self.check(
                "deposit", author, real, doc=doc, type=type, masked=masked, held=held, secret=secret
            )

        @rule(by=st.sampled_from(HOLDERS), index=st.integers(0, 5))
        def delete(self, by: str, index: int) -> None:
            doc = self.doc(index)
            real = _outcome_of(
                lambda: vault.delete_document(self.patient_id, UUID(doc), self.actor(by))
            )
            self.check("delete", by, real, doc=doc)

        @rule(
            kind=st.sampled_from(["mask", "unmask"]),
            by=st.sampled_from(["patient", "parent", "doc_a", "hospital", "nurse"]),
            index=st.integers(0, 5),
        )
        def mask(self, kind: str, by: str, index: int) -> None:
            doc = self.doc(index)
            command = vault.mask if kind == "mask" else vault.unmask
            real = _outcome_of(lambda: command(self.patient_id, UUID(doc), self.actor(by)))
            self.check(kind, by, real, doc=doc)

        @rule(by=st.sampled_from(["doc_a", "hospital", "patient"]), index=st.integers(0, 5))
        def release(self, by: str, index: int) -> None:
            doc = self.doc(index)
            real = _outcome_of(
                lambda: vault.release_to_patient(self.patient_id, UUID(doc), self.actor(by))
            )
            self.check("release", by, real, doc=doc)

        # -- who -----------------------------------------------------------------

        @rule(
            by=st.sampled_from(HOLDERS),
            grantee=st.sampled_from(PROS),
            scope=st.sampled_from(["space", "type", "document"]),
            type=st.sampled_from(TYPES),
            index=st.integers(0, 5),
            expires=st.booleans(),
        )
        def grant(
            self, by: str, grantee: str, scope: str, type: str, index: int, expires: bool
        ) -> None:
            doc = self.doc(index)
            value = {
                "space": Scope.whole_space(),
                "type": Scope("types", frozenset({type})),  # type: ignore[arg-type]
                "document": Scope("documents", documents=frozenset({UUID(doc)})),  # type: ignore[arg-type]
            }[scope]
            until = clock.now() + timedelta(days=1) if expires else None
            made: list[UUID] = []
            real = _outcome_of(
                lambda: made.append(
                    vault.grant(self.patient_id, self.actor(grantee), value, until, self.actor(by))
                )
            )
            grant_id = str(made[0]) if made else str(uuid4())
            self.grants.append(grant_id)
            self.check(
                "grant",
                by,
                real,
                grant=grant_id,
                grantee=grantee,
                types={type} if scope == "type" else None,
                documents={doc} if scope == "document" else None,
                expires=until,
            )

        @rule(grantee=st.sampled_from(PROS), expires=st.booleans())
        def care_team(self, grantee: str, expires: bool) -> None:
            until = clock.now() + timedelta(days=1) if expires else None
            made: list[UUID] = []
            real = _outcome_of(
                lambda: made.append(
                    vault.add_to_care_team(self.patient_id, FIXED[grantee], until, HOSPITAL)
                )
            )
            grant_id = str(made[0]) if made else str(uuid4())
            self.grants.append(grant_id)
            self.check(
                "care_team", "hospital", real, grant=grant_id, grantee=grantee, expires=until
            )

        @rule(by=st.sampled_from(HOLDERS), index=st.integers(0, 5))
        def revoke(self, by: str, index: int) -> None:
            grant_id = self.grants[index] if index < len(self.grants) else str(uuid4())
            real = _outcome_of(
                lambda: vault.revoke(self.patient_id, UUID(grant_id), self.actor(by))
            )
            self.check("revoke", by, real, grant=grant_id)

        @rule(
            kind=st.sampled_from(["block", "unblock"]),
            by=st.sampled_from(HOLDERS),
            pro=st.sampled_from(PROS),
        )
        def block(self, kind: str, by: str, pro: str) -> None:
            if kind == "block":
                call = lambda: vault.block(self.patient_id, FIXED[pro], self.actor(by))  # noqa: E731
            else:
                call = lambda: vault.unblock(self.patient_id, FIXED[pro].id, self.actor(by))  # noqa: E731
            self.check(kind, by, _outcome_of(call), pro=pro)

        @rule(by=st.sampled_from(HOLDERS), pro=st.sampled_from(["doc_a", "doc_b", None]))
        def attending(self, by: str, pro: str | None) -> None:
            physician = FIXED[pro] if pro else None
            real = _outcome_of(
                lambda: vault.designate_attending_physician(
                    self.patient_id, physician, self.actor(by)
                )
            )
            self.check("attending", by, real, pro=pro)

        @rule(by=st.sampled_from(HOLDERS), name=st.sampled_from(SETTINGS), value=st.booleans())
        def setting(self, by: str, name: str, value: bool) -> None:
            real = _outcome_of(
                lambda: vault.change_setting(self.patient_id, name, value, self.actor(by))
            )
            self.check("setting", by, real, name=name, value=value)

        @rule()
        def end_representation(self) -> None:
            parent = self.people["parent"]
            real = _outcome_of(
                lambda: vault.end_representation(self.patient_id, parent.id, REGISTRY)
            )
            self.check("end_representation", "hospital", real)

        @rule(pro=st.sampled_from(PROS))
        def emergency(self, pro: str) -> None:
            real = _outcome_of(
                lambda: vault.invoke_emergency_access(
                    self.patient_id, "Patient inconscient, pronostic vital engagé", FIXED[pro]
                )
            )
            self.check("emergency", pro, real)

        # -- reads ---------------------------------------------------------------

        #: reads are what the rules are about: three rules draw them, so they come
        #: about as often as all the commands together
        READS = st.lists(
            st.tuples(st.sampled_from(READERS), st.integers(0, 5)), min_size=1, max_size=4
        )

        @rule(reads=READS)
        def read_some(self, reads: list[tuple[str, int]]) -> None:
            for reader, index in reads:
                self.read(reader, index)

        @rule(reads=READS)
        def read_more(self, reads: list[tuple[str, int]]) -> None:
            self.read_some(reads)

        @rule(reads=READS)
        def read_again(self, reads: list[tuple[str, int]]) -> None:
            self.read_some(reads)

        def read(self, reader: str, index: int) -> None:
            doc, actor = self.doc(index), self.actor(reader)
            secret, key_id = key_for(actor)
            try:
                release = vault.read(self.patient_id, UUID(doc), actor, key_id)
            except (UnknownDocument, UnknownSpace) as refusal:
                # A refusal answers exactly like a document that does not exist, or, to a
                # person who does not hold the space, like a space that does not exist...
                expected = (
                    "no space for this patient"
                    if isinstance(refusal, UnknownSpace)
                    else "no such document in this space"
                )
                assert str(refusal) == expected
                assert isinstance(refusal, UnknownDocument) or reader in ("parent", "regulator")
                record = self.last_access()
                assert type(record).__name__ == "Refused"
                real: Any = ("refused", record.rule)
            else:
                record = self.last_access()
                assert type(record).__name__ == "Read" and record.originator_id == release.access_id
                # ...and an allowed read releases the document's own key to the reader.
                released = unseal(base64.b64decode(release.sealed_key), bytes(secret))
                assert bytes(released) == bytes(self.data_keys[doc])
                real = ("allowed", record.mode)
            self.check("read", reader, real, doc=doc)

        def last_access(self) -> Any:
            last = vault.recorder.max_notification_id()
            (notification,) = vault.recorder.select_notifications(start=last, limit=1)
            return vault.mapper.to_domain_event(notification)

        @rule(reader=st.sampled_from(READERS))
        def listing(self, reader: str) -> None:
            try:
                listed = vault.documents(self.patient_id, self.actor(reader))
            except UnknownSpace:  # a former representative, a regulator: as if no space
                assert reader in ("parent", "regulator")
                listed = []
            real = frozenset(str(d.document_id) for d in listed)
            self.check("list", reader, real)

    run_state_machine_as_test(
        Rules,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=False,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
                HealthCheck.function_scoped_fixture,
            ],
        ),
    )


def test_the_vault_follows_the_rules_model(
    machine_coffre: tuple[Coffre, SetClock], capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000 random histories on PostgreSQL + S3: every outcome equals the model's."""
    coffre, clock = machine_coffre
    # The one-time codes' scrypt cost is stored with each digest; a low cost here keeps
    # 1,000+ provisionings quick without changing what is checked (the code path).
    coffre.vault.codes, codes = CodeHasher(n=2**8), coffre.vault.codes
    started = time.perf_counter()
    try:
        run_machine(coffre, clock)
    finally:
        coffre.vault.codes = codes
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nrules state machine: {EXAMPLES} examples in {elapsed:.1f} s")
        if os.environ.get("COFFRE_RULES_STATS"):
            for (kind, result), count in sorted(STATS.items()):
                print(f"  {kind:20} {result:40} {count}")
