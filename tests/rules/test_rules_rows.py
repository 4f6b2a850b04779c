"""One test per row of RULES.md, named after it; each docstring quotes its row.

Tests that touch storage run on both backends (``coffre``: SQLite + files, PostgreSQL +
S3); the clock is moved, never slept on. docs/rules.md maps every row to its code and
to the test here. The regulator's rows (trail, FHIR, checkpoints) belong to the trail's
own suite, which these tests call into only at its public edges.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from coffre.bootstrap import Coffre
from domain.matrix import DEFAULT_MATRIX, DEFAULT_ROWS, Matrix
from domain.periods import Periods
from domain.values import Actor, Scope, patient_id_from_number, professional_id_from_number
from keys.codes import verify_code
from projections.access_log import LogFilter
from projections.notifications import Notifications, NotificationsProjection
from projections.runner import ProjectionRunner, wait_for
from tests.rules.conftest import REGISTRY, appoint
from tests.scenarios.conftest import Cast, Person, _person, deposit, read
from vault.clock import ManualClock
from vault.confidentiality import Confidentiality
from vault.scheduler import Scheduler
from wire.dto import RegisterEntry, RepresentativeEntry
from wire.envelope import DataKey
from wire.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Refused,
    UnknownDocument,
    UnknownSpace,
)
from wire.values import DocumentType, Profession, Role

HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
INSURER = Actor(Role.SERVICE, "cpam-69", "CPAM du Rhône")


def pro(n: str, name: str, profession: Profession) -> Actor:
    return Actor(Role.PROFESSIONAL, professional_id_from_number(n), name, profession, "Cabinet")


def refused_rule(
    coffre: Coffre,
    patient_id: str,
    document_id: UUID,
    person: Person,
    looks_like: type[Exception] = UnknownDocument,
) -> str:
    """Read, expect the refusal to look like an unknown document (or, to a person who
    does not hold the space, an unknown space), return its recorded rule."""
    message = {UnknownDocument: "no such document in this space"}.get(
        looks_like, "no space for this patient"
    )
    with pytest.raises(looks_like, match=f"^{message}$"):
        coffre.vault.read(patient_id, document_id, person.actor, person.key_id)
    last = coffre.vault.recorder.max_notification_id()
    (notification,) = coffre.vault.recorder.select_notifications(start=last, limit=1)
    return coffre.vault.mapper.to_domain_event(notification).rule  # type: ignore[no-any-return]


def read_mode(coffre: Coffre, patient_id: str, document_id: UUID, person: Person) -> str:
    """Read (really: key release, download, decrypt) and return how it was allowed."""
    read(coffre, patient_id, document_id, person)
    last = coffre.vault.recorder.max_notification_id()
    (notification,) = coffre.vault.recorder.select_notifications(start=last, limit=1)
    return coffre.vault.mapper.to_domain_event(notification).mode  # type: ignore[no-any-return]


def log(coffre: Coffre, person: Person, **where: object) -> list[dict[str, object]]:
    wait_for(coffre.runner)
    space_id = coffre.vault.authorise_log(person.actor.id, person.actor)
    return coffre.access_log.page(space_id, limit=500, where=LogFilter(**where)).entries  # type: ignore[arg-type]


def provision(coffre: Coffre, n: str, birth: date | None = None) -> tuple[str, str]:
    """A new pending space; returns (patient id, one-time code)."""
    patient_id = patient_id_from_number(n)
    return patient_id, coffre.vault.provision(patient_id, INSURER, birth_date=birth).one_time_code


def open_now(coffre: Coffre, clock: ManualClock, patient_id: str) -> None:
    opens_at = coffre.vault.space_state(patient_id, patient(patient_id)).opens_at
    assert opens_at is not None
    clock.advance(max(opens_at - clock.now(), timedelta(0)))


def patient(patient_id: str) -> Actor:
    return Actor(Role.PATIENT, patient_id, "Patient")


# -- Life of a space --------------------------------------------------------------------


def test_life_row_1_provisioned_for_everyone_with_a_one_time_code(coffre: Coffre) -> None:
    """ "A space is provisioned for every insured person and for every newborn; a letter or
    e-mail carries a one-time code" (CSP L1111-13-1)."""
    newborn = RegisterEntry(
        patient_id_from_number("2261069123001"),
        birth_date=date(2026, 10, 20),
        representatives=(
            RepresentativeEntry(patient_id_from_number("2900175123002"), "Mère", "parent"),
        ),
    )
    adults = [RegisterEntry(patient_id_from_number(f"1800175{i:06d}")) for i in range(450)]
    # A register that names representatives comes from an authorised registry: from
    # anyone else it is refused whole, and nothing is recorded.
    with pytest.raises(Forbidden, match="authorised registry"):
        coffre.vault.provision_register([newborn, *adults[:2]], INSURER)
    assert coffre.vault.recorder.max_notification_id() in (None, 0)
    first = coffre.vault.provision_register([newborn, *adults], REGISTRY)
    assert len(first.provisioned) == 451 and first.already_provisioned == []
    # Sending the register again changes nothing: everyone is reported as provisioned.
    again = coffre.vault.provision_register([newborn, adults[0]], REGISTRY)
    assert again.provisioned == [] and len(again.already_provisioned) == 2
    # Each space has its own code, given once; the store keeps only a salted digest.
    space = coffre.vault.repository.get(first.provisioned[0].space_id)
    code = first.provisioned[0].one_time_code
    assert len({p.one_time_code for p in first.provisioned}) == 451
    assert space.code["scheme"] == "scrypt" and verify_code(code, space.code)
    assert not verify_code(first.provisioned[1].one_time_code, space.code)
    stored = b"".join(
        n.state for n in coffre.vault.recorder.select_notifications(start=1, limit=5000)
    )
    assert code.encode() not in stored and code.replace("-", "").encode() not in stored
    # The newborn's parent is recorded as their representative.
    rules = coffre.vault.access_rules(newborn.patient_id, patient(newborn.patient_id))
    assert [(r.kind, r.active) for r in rules.representatives] == [("parent", True)]
    # One bad row and nothing is recorded.
    with pytest.raises(InvalidInput, match="register row 1"):
        coffre.vault.provision_register(
            [RegisterEntry(patient_id_from_number("1800175999999")), RegisterEntry("nope")],
            INSURER,
        )
    with pytest.raises(Exception, match="no space"):
        coffre.vault.space_key(patient_id_from_number("1800175999999"))


def test_life_row_2_opposition_with_the_code_before_the_space_opens(
    coffre: Coffre, clock: ManualClock
) -> None:
    """ "The person (or, for a minor, a legal representative) may oppose with that code
    before the space opens" (6 weeks, service-public)."""
    assert Periods().opposition == timedelta(weeks=6)
    adult, code = provision(coffre, "1850575000001")
    # A wrong code is refused, and the attempt is recorded.
    with pytest.raises(Refused):
        coffre.vault.oppose(adult, "AAAAA-AAAAA", patient(adult))
    # Someone else cannot oppose for the person.
    with pytest.raises(Forbidden):
        coffre.vault.oppose(adult, code, pro("3000000001", "Dr X", Profession.DOCTOR))
    clock.advance(timedelta(weeks=6) - timedelta(seconds=1))
    coffre.vault.oppose(adult, code, patient(adult))
    assert coffre.vault.space_state(adult, patient(adult)).status == "opposed"
    clock.advance(timedelta(days=1))
    assert coffre.vault.space_state(adult, patient(adult)).status == "opposed"  # never opens
    # For a minor, a parent opposes; after the deadline nobody can.
    minor, code = provision(coffre, "2150575000002", birth=date(2015, 5, 1))
    parent = Actor(Role.REPRESENTATIVE, patient_id_from_number("1800575000003"), "Père")
    appoint(coffre, minor, parent, "parent")
    coffre.vault.oppose(minor, code, parent)
    late, code = provision(coffre, "1850575000004")
    clock.advance(timedelta(weeks=6))
    with pytest.raises(Conflict, match="before it opens"):
        coffre.vault.oppose(late, code, patient(late))
    entries = [(e["action"], e["outcome"], e["how"]) for e in log(coffre, _p(coffre, minor))]
    assert ("oppose", "allowed", "representative") in entries


def _p(coffre: Coffre, patient_id: str) -> Person:
    return _person(coffre, patient(patient_id))


def test_life_row_3_opens_at_the_deadline_and_the_patient_activates(
    coffre: Coffre, clock: ManualClock
) -> None:
    """ "Without opposition the space opens at the deadline; the patient activates it with
    the code" (ameli)."""
    patient_id, code = provision(coffre, "1850575000011")
    me = patient(patient_id)
    scheduler = Scheduler(coffre.vault)
    assert coffre.vault.space_state(patient_id, me).status == "pending"
    clock.advance(timedelta(weeks=6))
    # Open at the deadline whether or not the scheduler ran; it records the moment.
    assert coffre.vault.space_state(patient_id, me).status == "open"
    report = scheduler.run_once()
    assert list(report.applied.values()) == [["Opened"]]
    assert scheduler.run_once().applied == {}  # nothing twice
    with pytest.raises(Refused):
        coffre.vault.activate(patient_id, "ZZZZZ-ZZZZZ", me)
    coffre.vault.activate(patient_id, code.lower().replace("-", " "), me)  # as typed
    assert coffre.vault.space_state(patient_id, me).activated_at == clock.now()
    with pytest.raises(Conflict):
        coffre.vault.activate(patient_id, code, me)  # the code is spent


def test_life_row_3_a_code_is_locked_after_five_wrong_attempts(coffre: Coffre) -> None:
    """ "... the patient activates it with the code": guessing is bounded (5 attempts)."""
    patient_id, code = provision(coffre, "1850575000012")
    for _ in range(5):
        with pytest.raises(Refused):
            coffre.vault.activate(patient_id, "WRONG-WRONG", patient(patient_id))
    with pytest.raises(Conflict, match="locked"):
        coffre.vault.activate(patient_id, code, patient(patient_id))
    fresh = coffre.vault.reissue_code(patient_id, INSURER).one_time_code
    coffre.vault.activate(patient_id, fresh, patient(patient_id))


def test_life_row_4_deposits_once_open_before_activation_under_the_matrix(
    coffre: Coffre, clock: ManualClock
) -> None:
    """ "Documents may be deposited once the space is open, before the patient activates
    it; professionals then see them according to the access matrix" (ANS)."""
    patient_id, _ = provision(coffre, "1850575000021")
    with pytest.raises(Conflict, match="not open"):
        deposit(coffre, patient_id, b"too early", HOSPITAL)
    open_now(coffre, clock, patient_id)
    lab = deposit(coffre, patient_id, b"lab", HOSPITAL)
    psy = deposit(coffre, patient_id, b"psy", HOSPITAL, type=DocumentType.PSYCHIATRIC_SUMMARY)
    assert coffre.vault.space_state(patient_id, patient(patient_id)).activated_at is None
    nurse = _person(coffre, pro("3000000021", "Inès", Profession.NURSE))
    coffre.vault.grant(patient_id, nurse.actor, Scope.whole_space(), None, patient(patient_id))
    assert read(coffre, patient_id, lab, nurse) == b"lab"
    assert refused_rule(coffre, patient_id, psy, nurse) == "profession_matrix"


def test_life_row_5_closure_archives_then_deletes_after_ten_years(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    """ "The holder may close the space at any time; its data is archived, then deleted"
    (archive 10 years, CSP R1111-36)."""
    me = cast.patient
    document_id = deposit(coffre, me.actor.id, b"archive me", cast.hospital)
    coffre.vault.grant(me.actor.id, cast.doctor.actor, Scope.whole_space(), None, me.actor)
    state = coffre.vault.close_space(me.actor.id, me.actor)
    assert state.status == "closed" and state.archive_until == clock.now().replace(year=2036)
    # Archived: nobody reads, not even the patient; grants ended with the closure.
    assert refused_rule(coffre, me.actor.id, document_id, me) == "space_not_open"
    assert refused_rule(coffre, me.actor.id, document_id, cast.doctor) == "space_not_open"
    assert not any(g.active for g in coffre.vault.grants(me.actor.id, me.actor))
    scheduler = Scheduler(coffre.vault)
    clock.advance(timedelta(days=3652 - 1))
    assert scheduler.run_once().applied == {}
    clock.advance(timedelta(days=2))
    assert list(scheduler.run_once().applied.values()) == [["Shredded"]]
    assert coffre.vault.space_state(me.actor.id, me.actor).status == "deleted"


def test_life_row_6_express_deletion_skips_the_archive(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    """ "On express request, deletion happens without the archive period" (within 3 months,
    CSP R1111-36)."""
    with pytest.raises(InvalidInput):
        Periods(express_deletion=timedelta(days=93))
    me = cast.patient
    deposit(coffre, me.actor.id, b"x", cast.hospital)
    state = coffre.vault.close_space(me.actor.id, me.actor, express_deletion=True)
    assert state.status == "deleted"  # at once (the default delay is none)
    # Or later, while archived: the request shortens the archive to nothing.
    other, _ = provision(coffre, "1850575000031")
    open_now(coffre, clock, other)
    coffre.vault.close_space(other, patient(other))
    assert coffre.vault.request_deletion(other, patient(other)).status == "deleted"


def test_life_row_7_a_new_space_reimports_the_archive(coffre: Coffre, cast: Cast) -> None:
    """ "Opening a new space re-imports the archive of a closed one still within its
    archive period" (CSP R1111-36)."""
    me = cast.patient
    kept = deposit(coffre, me.actor.id, b"kept", cast.hospital)
    coffre.vault.close_space(me.actor.id, me.actor)
    reopened = coffre.vault.reopen(me.actor.id, cast.hospital)
    assert reopened.reimported and reopened.one_time_code
    assert read(coffre, me.actor.id, kept, me) == b"kept"
    # After a deletion, a new space starts empty, with a new key.
    coffre.vault.close_space(me.actor.id, me.actor, express_deletion=True)
    fresh = coffre.vault.reopen(me.actor.id, cast.hospital)
    assert not fresh.reimported and fresh.key_id != reopened.key_id
    assert coffre.vault.documents(me.actor.id, me.actor) == []
    assert refused_rule(coffre, me.actor.id, kept, me) == "document_deleted"
    new = deposit(coffre, me.actor.id, b"new life", cast.hospital)
    assert read(coffre, me.actor.id, new, me) == b"new life"
    with pytest.raises(Conflict):
        coffre.vault.reopen(me.actor.id, cast.hospital)  # it is open


def test_life_row_8_deletion_is_crypto_shredding_events_stay(coffre: Coffre, cast: Cast) -> None:
    """ "Deletion is crypto-shredding: the patient's key is destroyed; events stay, readable
    only as metadata" (design). (The full-access attack: ``test_shredding.py``.)"""
    me = cast.patient
    document_id = deposit(coffre, me.actor.id, b"gone", cast.hospital)
    space = coffre.vault.repository.get(coffre.vault.space_key(me.actor.id).space_id)
    key_id, blob = space.key_id, space.documents[document_id].current.ciphertext.blob
    before = coffre.vault.recorder.max_notification_id()
    coffre.vault.close_space(me.actor.id, me.actor, express_deletion=True)
    assert coffre.keyring._store.get(key_id).destroyed
    assert blob not in set(coffre.blobs.names())
    # Every event is still there; the deposit still says what it was, as metadata.
    events = [
        coffre.vault.mapper.to_domain_event(n)
        for n in coffre.vault.recorder.select_notifications(start=1, limit=1000)
    ]
    assert len(events) > before
    shredded = [e for e in events if type(e).__name__ == "Shredded"]
    assert [e.key_id for e in shredded] == [key_id]
    # Its title is sealed to the document's key, which the shredding destroyed too.
    deposited = next(e for e in events if type(e).__name__ == "Deposited")
    assert deposited.type == "lab_result" and deposited.document_id == document_id
    assert "Bilan" not in deposited.title
    assert coffre.keyring._store.get(deposited.document_key).destroyed


# -- Who may read a document --------------------------------------------------------------


def test_read_rules_are_checked_in_order_and_the_first_failure_is_recorded(
    coffre: Coffre, cast: Cast
) -> None:
    """ "A read is allowed when all of these hold, checked in this order, and the first
    failing rule is the reason recorded on the refusal"."""
    me = cast.patient
    dentist = _person(coffre, pro("3000000041", "Dr Dent", Profession.DENTIST))
    psy = deposit(coffre, me.actor.id, b"psy", cast.hospital, type=DocumentType.PSYCHIATRIC_SUMMARY)
    coffre.vault.mask(me.actor.id, psy, me.actor)
    coffre.vault.block(me.actor.id, dentist.actor, me.actor)
    # Not authorised, blocked, outside the matrix and masked: rule 2 fails first.
    assert refused_rule(coffre, me.actor.id, psy, dentist) == "not_authorised"
    coffre.vault.grant(me.actor.id, dentist.actor, Scope.whole_space(), None, me.actor)
    assert refused_rule(coffre, me.actor.id, psy, dentist) == "blocked"
    coffre.vault.unblock(me.actor.id, dentist.actor.id, me.actor)
    assert refused_rule(coffre, me.actor.id, psy, dentist) == "profession_matrix"
    refusals = [e["reason"] for e in log(coffre, me, actor_id=dentist.actor.id)]
    assert refusals == ["profession_matrix", "blocked", "not_authorised"]


def test_read_rule_1_the_space_is_open(coffre: Coffre, clock: ManualClock) -> None:
    """ "1. The space is open (not pending opposition, opposed, closed or deleted)."""
    patient_id, code = provision(coffre, "1850575000051")
    me = _p(coffre, patient_id)
    unknown = uuid4()
    assert refused_rule(coffre, patient_id, unknown, me) == "space_not_open"  # pending
    coffre.vault.oppose(patient_id, code, me.actor)
    assert refused_rule(coffre, patient_id, unknown, me) == "space_not_open"  # opposed
    other, _ = provision(coffre, "1850575000052")
    open_now(coffre, clock, other)
    them = _p(coffre, other)
    document_id = deposit(coffre, other, b"x", HOSPITAL)
    assert read_mode(coffre, other, document_id, them) == "patient"
    coffre.vault.close_space(other, them.actor)
    assert refused_rule(coffre, other, document_id, them) == "space_not_open"  # closed
    coffre.vault.request_deletion(other, them.actor)
    assert refused_rule(coffre, other, document_id, them) == "space_not_open"  # deleted


def test_read_rule_2_who_may_read(coffre: Coffre, cast: Cast, clock: ManualClock) -> None:
    """ "2. The reader is the patient, one of the patient's legal representatives, the author
    of the document (a professional or organisation that deposited it), or a professional
    with an active grant (not expired, not revoked) whose scope covers the document.
    Members of the care team are deemed authorised (CSP R1111-46): model the care team as
    grants the patient can see and revoke."""
    me, doctor, nurse = cast.patient, cast.doctor, cast.nurse
    author = _person(coffre, pro("3000000061", "Dr Auteur", Profession.DOCTOR))
    guardian = _person(
        coffre, Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575000062"), "Tuteur")
    )
    appoint(coffre, me.actor.id, guardian.actor, "guardian")
    document_id = deposit(coffre, me.actor.id, b"x", author.actor)
    assert read_mode(coffre, me.actor.id, document_id, me) == "patient"
    assert read_mode(coffre, me.actor.id, document_id, guardian) == "representative"
    assert read_mode(coffre, me.actor.id, document_id, author) == "author"
    assert refused_rule(coffre, me.actor.id, document_id, doctor) == "not_authorised"
    grant_id = coffre.vault.grant(
        me.actor.id, doctor.actor, Scope.whole_space(), clock.now() + timedelta(days=1), me.actor
    )
    assert read_mode(coffre, me.actor.id, document_id, doctor) == "grant"
    clock.advance(timedelta(days=1))
    assert refused_rule(coffre, me.actor.id, document_id, doctor) == "not_authorised"  # expired
    # The care team: declared by the establishment, seen and revoked by the patient.
    team = coffre.vault.add_to_care_team(me.actor.id, nurse.actor, None, cast.hospital)
    assert read_mode(coffre, me.actor.id, document_id, nurse) == "care_team"
    listed = {g.grant_id: g.basis for g in coffre.vault.grants(me.actor.id, me.actor)}
    assert listed == {grant_id: "consent", team: "care_team"}
    coffre.vault.revoke(me.actor.id, team, me.actor)
    assert refused_rule(coffre, me.actor.id, document_id, nurse) == "not_authorised"


def test_read_rule_3_not_blocked(coffre: Coffre, cast: Cast) -> None:
    """ "3. The reader is not blocked by the patient."""
    me, doctor = cast.patient, cast.doctor
    document_id = deposit(coffre, me.actor.id, b"x", cast.hospital)
    coffre.vault.grant(me.actor.id, doctor.actor, Scope.whole_space(), None, me.actor)
    coffre.vault.block(me.actor.id, doctor.actor, me.actor)
    assert refused_rule(coffre, me.actor.id, document_id, doctor) == "blocked"
    coffre.vault.unblock(me.actor.id, doctor.actor.id, me.actor)
    assert read_mode(coffre, me.actor.id, document_id, doctor) == "grant"


@pytest.mark.parametrize("profession", list(Profession))
def test_read_rule_4_the_profession_matrix_row(profession: Profession) -> None:
    """ "4. The reader's profession may see the document's type (the matrice d'habilitation,
    arrêté of 26 Oct 2023 ...). Ship the matrix as data, with a test per profession."""
    row = DEFAULT_ROWS[profession.value]
    for document_type in DocumentType:
        assert DEFAULT_MATRIX.allows(profession, document_type) is (document_type.value in row)
    expected = {
        Profession.DOCTOR: set(DocumentType),
        Profession.DENTIST: set(DocumentType)
        - {DocumentType.PSYCHIATRIC_SUMMARY, DocumentType.SOCIAL_CARE},
        Profession.MIDWIFE: set(DocumentType)
        - {DocumentType.PSYCHIATRIC_SUMMARY, DocumentType.SOCIAL_CARE},
        Profession.SOCIAL_WORKER: {DocumentType.SOCIAL_CARE, DocumentType.PATIENT_NOTE},
    }.get(profession)
    if expected is not None:
        assert {DocumentType(t) for t in row} == expected
    else:  # every other profession: no psychiatry, no social care
        assert not {"psychiatric_summary", "social_care"} & set(row)
    if profession is not Profession.DOCTOR:
        assert len(row) < len(DocumentType)


def test_read_rule_4_the_matrix_is_data_and_is_enforced(coffre: Coffre, cast: Cast) -> None:
    """ "4. ... (the matrice d'habilitation ...) Ship the matrix as data" — loaded,
    validated, and applied to reads."""
    with pytest.raises(InvalidInput, match="no row"):
        Matrix.from_rows({"doctor": ["lab_result"]})
    with pytest.raises(InvalidInput):
        Matrix.from_rows({**DEFAULT_ROWS, "doctor": ["x-ray"]})
    me = cast.patient
    social = _person(coffre, pro("3000000071", "Assistante", Profession.SOCIAL_WORKER))
    coffre.vault.grant(me.actor.id, social.actor, Scope.whole_space(), None, me.actor)
    care = deposit(coffre, me.actor.id, b"aide", cast.hospital, type=DocumentType.SOCIAL_CARE)
    lab = deposit(coffre, me.actor.id, b"lab", cast.hospital)
    assert read_mode(coffre, me.actor.id, care, social) == "grant"
    assert refused_rule(coffre, me.actor.id, lab, social) == "profession_matrix"
    assert [d.document_id for d in coffre.vault.documents(me.actor.id, social.actor)] == [care]


def test_read_rule_5_masked_from_professionals(coffre: Coffre, cast: Cast) -> None:
    """ "5. The document is not masked from professionals (MASQUE_PS), unless the reader is
    its author, or the patient's attending physician (médecin traitant) when the patient
    allowed that (CSP R1111-49)."""
    me, doctor, nurse = cast.patient, cast.doctor, cast.nurse
    author = _person(coffre, pro("3000000081", "Dr Auteur", Profession.DOCTOR))
    document_id = deposit(coffre, me.actor.id, b"x", author.actor)
    for person in (doctor, nurse):
        coffre.vault.grant(me.actor.id, person.actor, Scope.whole_space(), None, me.actor)
    coffre.vault.mask(me.actor.id, document_id, me.actor)
    assert refused_rule(coffre, me.actor.id, document_id, nurse) == "masked_from_professionals"
    assert read_mode(coffre, me.actor.id, document_id, author) == "author"
    coffre.vault.designate_attending_physician(me.actor.id, doctor.actor, me.actor)
    assert refused_rule(coffre, me.actor.id, document_id, doctor) == "masked_from_professionals"
    coffre.vault.change_setting(me.actor.id, "attending_physician_sees_masked", True, me.actor)
    assert read_mode(coffre, me.actor.id, document_id, doctor) == "grant"
    assert refused_rule(coffre, me.actor.id, document_id, nurse) == "masked_from_professionals"
    coffre.vault.unmask(me.actor.id, document_id, me.actor)
    assert read_mode(coffre, me.actor.id, document_id, nurse) == "grant"
    # A depositor may mask at deposit, on the patient's request.
    masked = deposit_with(coffre, me.actor.id, author.actor, Confidentiality(masked=True))
    assert refused_rule(coffre, me.actor.id, masked, nurse) == "masked_from_professionals"


def deposit_with(
    coffre: Coffre,
    patient_id: str,
    author: Actor,
    codes: Confidentiality,
    type: DocumentType = DocumentType.LAB_RESULT,
) -> UUID:
    """Deposit a document with confidentiality codes, as a client would."""
    from wire.envelope import encrypt, seal

    key = DataKey.generate()
    receipt = coffre.vault.upload(patient_id, encrypt([b"codes"], key), author)
    public = base64.b64decode(coffre.vault.space_key(patient_id).public_key)
    from wire.values import DocumentMetadata

    return coffre.vault.deposit(
        patient_id,
        receipt.ticket,
        DocumentMetadata(type, "Compte rendu", date(2026, 10, 30)),
        seal(key, public),
        author,
        confidentiality=codes,
    ).document_id


def test_read_rule_6_invisible_to_the_patient_until_announced(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    """ "6. For the patient: the document is not invisible to the patient pending an
    announcement consultation (INVISIBLE_PATIENT); the patient is told after 2 weeks that a
    new document awaits a consultation, and it becomes visible automatically after 1 month
    (CSP R1111-53)."""
    me = cast.patient
    scheduler = Scheduler(coffre.vault)
    scheduler.run_once()  # the space's opening, recorded
    held = deposit_with(
        coffre, me.actor.id, cast.hospital, Confidentiality(invisible_to_patient=True)
    )
    assert refused_rule(coffre, me.actor.id, held, me) == "invisible_to_patient"
    assert coffre.vault.documents(me.actor.id, me.actor) == []
    assert held not in {e["document_id"] for e in log(coffre, me)}  # not even in the log
    clock.advance(timedelta(weeks=2))
    assert list(scheduler.run_once().applied.values()) == [["AnnouncementNoticeSent"]]
    assert next(e["action"] for e in log(coffre, me)) == "announcement_pending"
    assert refused_rule(coffre, me.actor.id, held, me) == "invisible_to_patient"
    clock.advance(timedelta(days=17))  # 2 Nov + 6 weeks + 1 month = 14 Jan
    assert list(scheduler.run_once().applied.values()) == [["ReleasedToPatient"]]
    assert read_mode(coffre, me.actor.id, held, me) == "patient"
    assert str(held) in {e["document_id"] for e in log(coffre, me)}
    # The author may release earlier, after the announcement consultation.
    early = deposit_with(
        coffre, me.actor.id, cast.hospital, Confidentiality(invisible_to_patient=True)
    )
    coffre.vault.release_to_patient(me.actor.id, early, cast.hospital)
    assert read_mode(coffre, me.actor.id, early, me) == "patient"


def test_read_rule_7_invisible_to_legal_representatives(coffre: Coffre, clock: ManualClock) -> None:
    """ "7. For a legal representative: the document is not marked invisible to legal
    representatives (INVISIBLE_REPRESENTANTS_LEGAUX) — a minor's right to secrecy for
    certain care (CSP R1111-50)."""
    minor_id, _ = provision(coffre, "2100575000091", birth=date(2010, 5, 1))
    parent = _person(
        coffre, Actor(Role.REPRESENTATIVE, patient_id_from_number("1750575000092"), "Père")
    )
    appoint(coffre, minor_id, parent.actor, "parent")
    open_now(coffre, clock, minor_id)
    minor = _p(coffre, minor_id)
    secret = deposit_with(
        coffre, minor_id, HOSPITAL, Confidentiality(invisible_to_representatives=True)
    )
    open_doc = deposit(coffre, minor_id, b"vaccins", HOSPITAL)
    assert refused_rule(coffre, minor_id, secret, parent) == "invisible_to_representatives"
    assert read_mode(coffre, minor_id, secret, minor) == "patient"
    assert [d.document_id for d in coffre.vault.documents(minor_id, parent.actor)] == [open_doc]
    # Every command on it answers as if it did not exist.
    for command in (coffre.vault.mask, coffre.vault.delete_document):
        with pytest.raises(UnknownDocument):
            command(minor_id, secret, parent.actor)
    with pytest.raises(InvalidInput, match="unknown document"):
        coffre.vault.grant(
            minor_id,
            pro("3000000093", "Dr Y", Profession.DOCTOR),
            Scope("documents", documents=frozenset({secret})),  # type: ignore[arg-type]
            None,
            parent.actor,
        )
    # The minor may also keep a document of their own secret.
    coffre.vault.hide_from_representatives(minor_id, open_doc, minor.actor)
    assert coffre.vault.documents(minor_id, parent.actor) == []


# -- Emergency access -------------------------------------------------------------------


def test_emergency_row_1_declared_by_a_professional_unless_forbidden(
    coffre: Coffre, cast: Cast
) -> None:
    """ "A professional may open the record of a person who cannot consent and faces an
    immediate risk, and the SAMU regulating doctor may when handling a call about the
    person (CSP L1111-17), unless the patient forbade emergency access beforehand."""
    me = cast.patient
    document_id = deposit(coffre, me.actor.id, b"x", cast.hospital)
    samu = _person(coffre, pro("3000000101", "Dr SAMU", Profession.DOCTOR))
    with pytest.raises(InvalidInput, match="justification"):
        coffre.vault.invoke_emergency_access(me.actor.id, "urgent", samu.actor)
    with pytest.raises(Forbidden):
        coffre.vault.invoke_emergency_access(me.actor.id, "Patient inconscient", cast.hospital)
    coffre.vault.change_setting(me.actor.id, "emergency_access_forbidden", True, me.actor)
    with pytest.raises(Refused) as refused:
        coffre.vault.invoke_emergency_access(me.actor.id, "Patient inconscient", samu.actor)
    assert refused.value.rule == "emergency_access_forbidden"
    assert refused_rule(coffre, me.actor.id, document_id, samu) == "not_authorised"
    coffre.vault.change_setting(me.actor.id, "emergency_access_forbidden", False, me.actor)
    coffre.vault.invoke_emergency_access(me.actor.id, "Patient inconscient", samu.actor)
    assert read_mode(coffre, me.actor.id, document_id, samu) == "emergency"
    attempts = [(e["outcome"], e["reason"]) for e in log(coffre, me, action="emergency_access")]
    assert attempts == [("allowed", None), ("refused", "emergency_access_forbidden")]


def test_emergency_row_1_only_a_health_professional_declares_it(coffre: Coffre, cast: Cast) -> None:
    """ "... un professionnel de santé ..." (CSP L1111-17): a social worker is not one, so
    their declaration is refused, recorded, and on the patient's access log."""
    me = cast.patient
    document_id = deposit(coffre, me.actor.id, b"x", cast.hospital)
    social = _person(coffre, pro("3000000127", "Assistante", Profession.SOCIAL_WORKER))
    with pytest.raises(Refused) as refused:
        coffre.vault.invoke_emergency_access(me.actor.id, "Patiente inconsciente", social.actor)
    assert refused.value.rule == "not_a_health_profession"
    assert refused_rule(coffre, me.actor.id, document_id, social) == "not_authorised"
    assert coffre.vault.access_rules(me.actor.id, me.actor).emergency_accesses == []
    attempts = [
        (e["actor_id"], e["outcome"], e["reason"], e["how"])
        for e in log(coffre, me, action="emergency_access")
    ]
    assert attempts == [(social.actor.id, "refused", "not_a_health_profession", "emergency")]


def test_emergency_row_2_time_limited_justified_recorded_and_notified(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    """ "The access is time-limited (default 24 hours), carries a written justification, is
    recorded as an emergency access, and the patient and the attending physician are
    notified afterwards (CSP R1111-48)."""
    me, attending = cast.patient, cast.doctor
    document_id = deposit(coffre, me.actor.id, b"x", cast.hospital)
    coffre.vault.designate_attending_physician(me.actor.id, attending.actor, me.actor)
    samu = _person(coffre, pro("3000000111", "Dr SAMU", Profession.DOCTOR))
    granted = coffre.vault.invoke_emergency_access(
        me.actor.id, "Inconscient, allergies inconnues", samu.actor
    )
    assert granted.expires_at == clock.now() + timedelta(hours=24)
    assert read_mode(coffre, me.actor.id, document_id, samu) == "emergency"
    clock.advance(timedelta(hours=24))
    assert refused_rule(coffre, me.actor.id, document_id, samu) == "not_authorised"
    entries = log(coffre, me, actor_id=samu.actor.id)
    declared = next(e for e in entries if e["action"] == "emergency_access")
    assert declared["how"] == "emergency"
    # kept sealed to the space key; the vault opens it for the patient's log
    assert declared["detail"]["justification"] != "Inconscient, allergies inconnues"
    coffre.vault.open_details([declared])
    assert declared["detail"]["justification"] == "Inconscient, allergies inconnues"
    assert ("read", "emergency", "allowed") in [
        (e["action"], e["how"], e["outcome"]) for e in entries
    ]
    # Notified: the patient and the attending physician (named on the event).
    notifications = notify(coffre)
    for role, who in (("patient", me.actor.id), ("professional", attending.actor.id)):
        kinds = [n["kind"] for n in notifications.page(role, who).notifications]
        assert "emergency_access" in kinds


def notify(coffre: Coffre) -> Notifications:
    """The notifications view, projected up to now (a runner of its own, as a worker)."""
    runner = ProjectionRunner(coffre.runner.source, coffre.views, [NotificationsProjection()])
    coffre.runner.catch_up()
    runner.catch_up()
    return Notifications(coffre.views)


@pytest.mark.parametrize("reveals", [False, True], ids=["does-not-reveal", "reveals"])
def test_emergency_row_3_revealing_masked_documents_is_a_recorded_setting(
    coffre: Coffre, cast: Cast, reveals: bool
) -> None:
    """ "Emergency access does not reveal documents the patient masked unless the policy
    says so; make that a recorded setting and test both ways."""
    me = cast.patient
    masked = deposit(coffre, me.actor.id, b"x", cast.hospital)
    coffre.vault.mask(me.actor.id, masked, me.actor)
    if reveals:
        coffre.vault.change_setting(me.actor.id, "emergency_reveals_masked", True, me.actor)
    samu = _person(coffre, pro("3000000121", "Dr SAMU", Profession.DOCTOR))
    coffre.vault.invoke_emergency_access(me.actor.id, "Arrêt cardiaque, inconscient", samu.actor)
    if reveals:
        assert read_mode(coffre, me.actor.id, masked, samu) == "emergency"
    else:
        assert refused_rule(coffre, me.actor.id, masked, samu) == "masked_from_professionals"
    settings = [e["detail"] for e in log(coffre, me, action="setting")]
    assert settings == ([{"setting": "emergency_reveals_masked", "value": True}] if reveals else [])
    assert (
        coffre.vault.access_rules(me.actor.id, me.actor).settings["emergency_reveals_masked"]
        is reveals
    )


# -- What the patient sees ----------------------------------------------------------------


def test_patient_sees_row_1_the_access_log(coffre: Coffre, clock: ManualClock) -> None:
    """ "The access log (CSP R1111-43, L1111-19; EHDS art. 9): for every action on their
    space, the date and time, who, what, how (normal, emergency, representative), and the
    outcome, refused attempts included. ... Reading the log is itself recorded."""
    minor_id, _ = provision(coffre, "2100575000131", birth=date(2012, 1, 1))
    parent = _person(
        coffre, Actor(Role.REPRESENTATIVE, patient_id_from_number("1750575000132"), "Mère")
    )
    appoint(coffre, minor_id, parent.actor, "parent")
    open_now(coffre, clock, minor_id)
    minor = _p(coffre, minor_id)
    document_id = deposit(coffre, minor_id, b"x", HOSPITAL)
    read(coffre, minor_id, document_id, parent)
    coffre.vault.block(minor_id, pro("3000000133", "Dr Z", Profession.DOCTOR), parent.actor)
    samu = _person(coffre, pro("3000000134", "Dr SAMU", Profession.DOCTOR))
    coffre.vault.invoke_emergency_access(minor_id, "Enfant inconscient", samu.actor)
    read(coffre, minor_id, document_id, samu)
    stranger = _person(coffre, pro("3000000135", "Dr W", Profession.DOCTOR))
    refused_rule(coffre, minor_id, document_id, stranger)
    rows = log(coffre, minor)
    summary = [(e["action"], e["how"], e["outcome"], e["actor_id"]) for e in rows]
    assert ("read", "representative", "allowed", parent.actor.id) in summary
    assert ("block", "representative", "allowed", parent.actor.id) in summary
    assert ("read", "emergency", "allowed", samu.actor.id) in summary
    assert ("read", "normal", "refused", stranger.actor.id) in summary
    assert all(e["at"] and e["actor_name"] for e in rows)
    # Reading the log is recorded too.
    last = coffre.vault.recorder.max_notification_id()
    (notification,) = coffre.vault.recorder.select_notifications(start=last, limit=1)
    assert type(coffre.vault.mapper.to_domain_event(notification)).__name__ == "LogRead"


def test_patient_sees_row_2_notifications(coffre: Coffre, cast: Cast, clock: ManualClock) -> None:
    """ "Notifications: a new professional reads their space, an emergency access, a new
    document, a document awaiting an announcement consultation."""
    me, doctor = cast.patient, cast.doctor
    scheduler = Scheduler(coffre.vault)
    document_id = deposit(coffre, me.actor.id, b"x", cast.hospital)
    coffre.vault.grant(me.actor.id, doctor.actor, Scope.whole_space(), None, me.actor)
    read(coffre, me.actor.id, document_id, doctor)
    read(coffre, me.actor.id, document_id, doctor)  # not new the second time
    coffre.vault.invoke_emergency_access(me.actor.id, "Coma, pas de proche", cast.nurse.actor)
    deposit_with(coffre, me.actor.id, cast.hospital, Confidentiality(invisible_to_patient=True))
    clock.advance(timedelta(weeks=2))
    scheduler.run_once()
    kinds = [n["kind"] for n in notify(coffre).page("patient", me.actor.id).notifications]
    # Newest first; the held document is announced as pending, never as new. The last
    # three are the patient's own device's steps (the cast's enrolment).
    assert kinds == [
        "announcement_pending",
        "emergency_access",
        "new_professional",
        "new_document",
        "device_approved",
        "enrolment_code",
        "device_requested",
    ]


def test_patient_sees_row_3_who_may_read_what(coffre: Coffre, cast: Cast) -> None:
    """ "The list of who may currently read what (grants, care team, blocked professionals,
    emergency-access setting)."""
    me = cast.patient
    coffre.vault.grant(me.actor.id, cast.doctor.actor, Scope.whole_space(), None, me.actor)
    coffre.vault.add_to_care_team(me.actor.id, cast.nurse.actor, None, cast.hospital)
    coffre.vault.block(me.actor.id, cast.stranger.actor, me.actor)
    coffre.vault.change_setting(me.actor.id, "emergency_access_forbidden", True, me.actor)
    rules = coffre.vault.access_rules(me.actor.id, me.actor)
    assert [(g.grantee_id, g.basis, g.active) for g in rules.grants] == [
        (cast.doctor.actor.id, "consent", True),
        (cast.nurse.actor.id, "care_team", True),
    ]
    assert [b["id"] for b in rules.blocked] == [cast.stranger.actor.id]
    assert rules.settings["emergency_access_forbidden"] is True
    with pytest.raises(Forbidden):
        coffre.vault.access_rules(me.actor.id, cast.doctor.actor)


def test_patient_sees_row_4_listings_never_reveal_what_may_not_be_seen(
    coffre: Coffre, cast: Cast
) -> None:
    """ "Listings and counts never reveal the existence of a document a reader may not
    see."""
    me, nurse = cast.patient, cast.nurse
    visible = deposit(coffre, me.actor.id, b"lab", cast.hospital)
    psy = deposit(coffre, me.actor.id, b"psy", cast.hospital, type=DocumentType.PSYCHIATRIC_SUMMARY)
    masked = deposit(coffre, me.actor.id, b"m", cast.hospital)
    coffre.vault.mask(me.actor.id, masked, me.actor)
    held = deposit_with(
        coffre, me.actor.id, cast.hospital, Confidentiality(invisible_to_patient=True)
    )
    coffre.vault.grant(me.actor.id, nurse.actor, Scope.whole_space(), None, me.actor)
    assert [d.document_id for d in coffre.vault.documents(me.actor.id, nurse.actor)] == [
        visible,
        held,
    ]
    assert {d.document_id for d in coffre.vault.documents(me.actor.id, me.actor)} == {
        visible,
        psy,
        masked,
    }
    # A refused read of an existing document and a read of none answer identically.
    errors = []
    for document_id in (psy, masked, uuid4()):
        with pytest.raises(UnknownDocument) as error:
            coffre.vault.read(me.actor.id, document_id, nurse.actor, nurse.key_id)
        errors.append((type(error.value), str(error.value), error.value.code))
    assert len(set(errors)) == 1


# -- What a regulator gets -----------------------------------------------------------------


def test_regulator_row_1_the_trail_as_json_lines_and_fhir(coffre: Coffre, cast: Cast) -> None:
    """ "The trail of a patient, of a professional, or of a time window, as JSON Lines and
    as a FHIR R4 Bundle of AuditEvent resources (IHE BALP shapes where one applies; an
    emergency access is type DCM 110113 / subtype DCM 110127)." (The trail's own suite
    covers the shapes; here: the rules' new events reach it.)"""
    trail = pytest.importorskip("projections.trail_fhir")
    me = cast.patient
    coffre.vault.invoke_emergency_access(me.actor.id, "Patient inconscient", cast.doctor.actor)
    entry = {"event": "Space.EmergencyAccessInvoked", "details": {}}
    kind, subtypes, _ = trail.classify(entry)
    assert kind["code"] == "110113" and subtypes[0]["code"] == "110127"


def test_regulator_row_2_what_is_needed_to_verify_offline(coffre: Coffre, cast: Cast) -> None:
    """ "With it, what is needed to verify it offline: the hash links, a signed checkpoint,
    and the public key." (The trail's own suite; here: every new event is in the trail.)"""
    pytest.importorskip("projections.trail")
    me = cast.patient
    coffre.vault.mask(me.actor.id, deposit(coffre, me.actor.id, b"x", cast.hospital), me.actor)
    wait_for(coffre.runner)
    head = coffre.vault.recorder.max_notification_id()
    assert coffre.views.position("trail") == head


def test_periods_defaults_are_the_laws() -> None:
    """The durations of RULES.md, as configured by default."""
    periods = Periods()
    assert periods.opposition == timedelta(weeks=6)
    assert periods.archive_years == 10
    assert periods.emergency == timedelta(hours=24)
    assert periods.announcement_notice == timedelta(weeks=2)
    assert periods.announcement_months == 1
    assert periods.majority(date(2008, 2, 29)) == datetime.fromisoformat(
        "2026-02-28T23:00:00+00:00"
    )


def test_representatives_act_for_the_minor_until_majority_or_revocation(
    coffre: Coffre, clock: ManualClock
) -> None:
    """Rule 2's "one of the patient's legal representatives": parents of a minor and
    guardians act on the patient's behalf, each action recorded as theirs; a parent's
    representation ends at majority (applied by the scheduler), any ends when revoked."""
    minor_id, _ = provision(coffre, "2080575000301", birth=date(2008, 12, 25))
    mother = _person(
        coffre, Actor(Role.REPRESENTATIVE, patient_id_from_number("2780575000302"), "Mère")
    )
    guardian = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575000303"), "Tuteur")
    appoint(coffre, minor_id, mother.actor, "parent")
    appoint(coffre, minor_id, guardian, "guardian")
    open_now(coffre, clock, minor_id)
    scheduler = Scheduler(coffre.vault)
    scheduler.run_once()
    document_id = deposit(coffre, minor_id, b"x", mother.actor)  # deposited by the mother
    grant_id = coffre.vault.grant(
        minor_id,
        pro("3000000304", "Dr P", Profession.DOCTOR),
        Scope.whole_space(),
        None,
        mother.actor,
    )
    events = {
        type(e).__name__: e
        for e in (
            coffre.vault.mapper.to_domain_event(n)
            for n in coffre.vault.recorder.select_notifications(start=1, limit=1000)
        )
    }
    assert events["Granted"].actor["id"] == mother.actor.id
    assert events["Granted"].actor["role"] == "representative"
    # Coming of age: 25 Dec 2026, midnight in Paris.
    clock.advance(datetime.fromisoformat("2026-12-24T23:00:00+00:00") - clock.now())
    assert list(scheduler.run_once().applied.values()) == [["RepresentationEnded"]]
    # No longer a holder: the space answers her as if it did not exist (the attempt is
    # still recorded for the patient).
    refused = refused_rule(coffre, minor_id, document_id, mother, looks_like=UnknownSpace)
    assert refused == "not_authorised"
    with pytest.raises(UnknownSpace):
        coffre.vault.revoke(minor_id, grant_id, mother.actor)
    # A guardian's representation lasts until revoked.
    assert coffre.vault.space_state(minor_id, guardian).status == "open"
    coffre.vault.end_representation(minor_id, guardian.id, REGISTRY)
    with pytest.raises(UnknownSpace):
        coffre.vault.space_state(minor_id, guardian)
    ended = [
        (r.kind, r.active)
        for r in coffre.vault.access_rules(minor_id, patient(minor_id)).representatives
    ]
    assert ended == [("parent", False), ("guardian", False)]


def test_life_row_1_bulk_provisioning_is_thousands_per_call(coffre: Coffre) -> None:
    """ "A space is provisioned for every insured person ...": the insurer's register,
    thousands of spaces per call, stored in batches. (How fast is the bench's business:
    tests assert behaviour, never speed, on a shared machine.)"""
    entries = [RegisterEntry(patient_id_from_number(f"1900175{i:06d}")) for i in range(2000)]
    report = coffre.vault.provision_register(entries, INSURER)
    assert len(report.provisioned) == 2000
    again = coffre.vault.provision_register(entries[:10], INSURER)  # idempotent
    assert again.provisioned == [] and len(again.already_provisioned) == 10
