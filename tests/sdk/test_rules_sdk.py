"""The rules of a space through the SDK (``client.confidentiality``, ``client.blocks``,
``client.life``, ...), against the app in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest

from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor, patient_id_from_number
from tests.sdk.conftest import (
    BASE_URL,
    DOCTOR,
    HOSPITAL,
    PATIENT,
    STRANGER,
    Enrol,
    InProcessTransport,
)
from vault.settings import DEMO_REGISTRY, Settings
from wire.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Refused,
    UnknownDocument,
    UnknownGrant,
    UnknownRepresentative,
    UnknownSpace,
)
from wire.values import Role

Connect = Callable[..., CoffreClient]
DOCTOR_INFO = {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}
GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1620575123456"), "Paul Martin")
#: the embedded mode's registry service: the one that may appoint representatives
REGISTRY = Actor(Role.SERVICE, DEMO_REGISTRY, "Registre d'état civil")
#: the court decision a guardian's appointment rests on
COURT = {"basis_reference": "TJ Lyon RG 24/01234", "basis_date": date(2026, 1, 15)}


def _deposit(connect: Connect, space: str) -> str:
    doc, _ = connect(HOSPITAL).deposit(
        space, b"bilan", type="lab_result", title="Bilan", date=date(2026, 1, 2)
    )
    return str(doc)


def test_mask_hides_a_document_from_a_granted_doctor(
    connect: Connect, space: str, enrol: Enrol
) -> None:
    document_id = _deposit(connect, space)
    patient, doctor = connect(PATIENT), connect(DOCTOR)
    patient.grant(space, DOCTOR_INFO)
    enrol(doctor, DOCTOR)
    patient.mask(space, document_id)
    with pytest.raises(UnknownDocument):
        doctor.read(space, document_id, BytesIO())
    patient.unmask(space, document_id)
    doctor.read(space, document_id, BytesIO())


def test_a_document_masked_at_deposit_is_hidden_from_the_start(
    connect: Connect, space: str, enrol: Enrol
) -> None:
    # The hospital sets MASQUE_PS with the deposit: no window in which a granted doctor
    # could read it before a separate mask call.
    hospital, patient, doctor = connect(HOSPITAL), connect(PATIENT), connect(DOCTOR)
    document_id, _ = hospital.deposit(
        space, b"suivi", type="lab_result", title="Suivi", date=date(2026, 1, 3), masked=True
    )
    patient.grant(space, DOCTOR_INFO)
    enrol(doctor, DOCTOR)
    with pytest.raises(UnknownDocument):
        doctor.read(space, document_id, BytesIO())
    assert document_id not in [d.document_id for d in doctor.documents(space)]
    patient.unmask(space, document_id)
    doctor.read(space, document_id, BytesIO())


# each SDK call under its name, then under its old name (a thin alias)
@pytest.mark.parametrize("call", ["make_invisible_to_representatives", "hide_from_representatives"])
def test_make_a_document_invisible_to_the_legal_representatives(
    connect: Connect, space: str, enrol: Enrol, call: str
) -> None:
    document_id = _deposit(connect, space)
    patient, guardian = connect(PATIENT), connect(GUARDIAN)
    connect(REGISTRY).add_representative(
        space,
        GUARDIAN.id,
        GUARDIAN.name,
        "guardian",
        datetime.now(UTC) + timedelta(days=365),
        **COURT,
    )
    enrol(guardian, GUARDIAN)
    guardian.read(space, document_id, BytesIO())  # the guardian acts for the patient

    # Neither a representative nor a professional who is not the author keeps it secret.
    with pytest.raises(Forbidden):
        getattr(guardian, call)(space, document_id)
    patient.grant(space, DOCTOR_INFO)
    with pytest.raises(Forbidden):
        getattr(connect(DOCTOR), call)(space, document_id)

    getattr(patient, call)(space, document_id)
    with pytest.raises(UnknownDocument):
        guardian.read(space, document_id, BytesIO())
    assert [d.document_id for d in guardian.documents(space)] == []
    enrol(patient, PATIENT)
    patient.read(space, document_id, BytesIO())  # the patient still reads it


@pytest.mark.parametrize("call", ["release_invisible_to_patient", "release_to_patient"])
def test_release_a_document_held_for_an_announcement(
    connect: Connect,
    space: str,
    coffre: Coffre,
    transport: InProcessTransport,
    enrol: Enrol,
    call: str,
) -> None:
    token = coffre.tokens.mint(HOSPITAL, timedelta(minutes=10))
    with CoffreClient(BASE_URL, token, transport=transport) as hospital:
        document_id, _ = hospital.deposit(
            space,
            b"compte rendu",
            type="lab_result",
            title="Biopsie",
            date=date(2026, 1, 2),
            invisible_to_patient=True,
        )
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    with pytest.raises(UnknownDocument):
        patient.read(space, document_id, BytesIO())

    # Only the author releases it: not the patient, not another professional.
    with pytest.raises(Forbidden):
        getattr(patient, call)(space, document_id)
    patient.grant(space, DOCTOR_INFO)
    with pytest.raises(Forbidden):
        getattr(connect(DOCTOR), call)(space, document_id)

    getattr(connect(HOSPITAL), call)(space, document_id)
    patient.read(space, document_id, BytesIO())
    # Released once, for good.
    with pytest.raises(Conflict):
        getattr(connect(HOSPITAL), call)(space, document_id)


def test_block_setting_physician_and_access_rules(connect: Connect, space: str) -> None:
    patient = connect(PATIENT)
    patient.block(space, DOCTOR_INFO)
    assert [b["id"] for b in patient.access_rules(space)["blocked"]] == [DOCTOR.id]
    patient.unblock(space, DOCTOR.id)
    patient.designate_attending_physician(space, DOCTOR_INFO)
    patient.change_setting(space, "attending_physician_sees_masked", True)
    rules = patient.access_rules(space)
    assert rules["blocked"] == []
    assert rules["attending_physician"]["id"] == DOCTOR.id
    assert rules["settings"]["attending_physician_sees_masked"] is True
    patient.designate_attending_physician(space, None)
    assert patient.access_rules(space)["attending_physician"] is None


def test_emergency_access_then_forbidden(connect: Connect, space: str) -> None:
    declared = connect(DOCTOR).invoke_emergency_access(space, "Patiente inconsciente aux urgences")
    assert declared["access_id"] and declared["expires_at"]
    connect(PATIENT).change_setting(space, "emergency_access_forbidden", True)
    with pytest.raises(Refused):
        connect(STRANGER).invoke_emergency_access(space, "Patiente inconsciente aux urgences")


def test_notifications_list_and_acknowledge(connect: Connect, space: str) -> None:
    _deposit(connect, space)
    patient = connect(PATIENT)
    page = patient.notifications(unread=True)
    assert page["unread"] >= 1 and page["notifications"]
    newest = page["notifications"][0]["position"]
    assert patient.acknowledge_notifications(newest) == newest
    assert patient.notifications()["unread"] == 0


def test_space_life_close_then_request_deletion(connect: Connect, space: str) -> None:
    patient = connect(PATIENT)
    assert patient.space_state(space)["status"] == "open"
    assert patient.close_space(space)["status"] == "closed"
    after = patient.request_deletion(space)
    assert after["patient_id"] == space and after["status"] in {"closed", "deleted"}


class TestOpposition:
    """A space within its opposition period (the law's six weeks, not the fixture's 0)."""

    @pytest.fixture
    def coffre(self, tmp_path: Path) -> Iterator[Coffre]:
        built = build(Settings(data_dir=tmp_path / "data"))
        yield built
        built.close()

    def test_oppose_with_the_letters_code(self, connect: Connect) -> None:
        letter = connect(HOSPITAL).provision(PATIENT.id)
        patient = connect(PATIENT)
        assert patient.space_state(PATIENT.id)["status"] == "pending"
        # A wrong code is refused (and recorded); the space is still pending.
        with pytest.raises(Refused):
            patient.oppose(PATIENT.id, "not-the-code")
        assert patient.space_state(PATIENT.id)["status"] == "pending"
        patient.oppose(PATIENT.id, letter.one_time_code)
        assert patient.space_state(PATIENT.id)["status"] == "opposed"
        # Opposed for good: neither opposed again nor activated with the spent code.
        with pytest.raises(Conflict):
            patient.oppose(PATIENT.id, letter.one_time_code)
        with pytest.raises(Conflict):
            patient.activate(PATIENT.id, letter.one_time_code)

    def test_a_stranger_cannot_oppose(self, connect: Connect) -> None:
        letter = connect(HOSPITAL).provision(PATIENT.id)
        with pytest.raises(Forbidden):
            connect(STRANGER).oppose(PATIENT.id, letter.one_time_code)
        assert connect(PATIENT).space_state(PATIENT.id)["status"] == "pending"


def test_representatives_added_listed_and_ended(connect: Connect, space: str) -> None:
    registry, patient, guardian = connect(REGISTRY), connect(PATIENT), connect(GUARDIAN)
    until = datetime.now(UTC) + timedelta(days=365)
    registry.add_representative(space, GUARDIAN.id, GUARDIAN.name, "guardian", until, **COURT)
    (listed,) = patient.access_rules(space)["representatives"]
    assert (listed["id"], listed["kind"], listed["active"]) == (GUARDIAN.id, "guardian", True)
    assert datetime.fromisoformat(listed["until"]) == until
    # The guardian now acts for the patient.
    assert guardian.space_state(space)["status"] == "open"

    registry.end_representation(space, GUARDIAN.id)
    (ended,) = patient.access_rules(space)["representatives"]
    assert ended["active"] is False and ended["ended_at"]
    # No longer a holder: answered as if there were no space (issue 9, item 9).
    with pytest.raises(UnknownSpace):
        guardian.space_state(space)


def test_an_appointment_is_told_to_the_patient_and_the_other_representatives(
    connect: Connect, space: str
) -> None:
    registry, patient = connect(REGISTRY), connect(PATIENT)
    registry.add_representative(space, GUARDIAN.id, GUARDIAN.name, "guardian", **COURT)
    other = Actor(Role.REPRESENTATIVE, patient_id_from_number("2650575123457"), "Anne Martin")
    registry.add_representative(space, other.id, other.name, "guardian", **COURT)
    told = [
        n
        for n in patient.notifications()["notifications"]
        if n["kind"] == "representative_appointed"
    ]
    assert [n["detail"]["representative"]["id"] for n in told] == [other.id, GUARDIAN.id]
    assert told[0]["detail"]["basis"] == {
        "act": "court_decision",
        "reference": "TJ Lyon RG 24/01234",
        "date": "2026-01-15",
    }
    (to_guardian,) = connect(GUARDIAN).notifications()["notifications"]
    assert to_guardian["detail"]["representative"]["id"] == other.id


def test_granting_again_keeps_one_grant_and_revoking_it_ends_access(
    connect: Connect, space: str, enrol: Enrol
) -> None:
    document_id = _deposit(connect, space)
    patient, doctor = connect(PATIENT), connect(DOCTOR)
    enrol(doctor, DOCTOR)
    first = patient.grant(space, DOCTOR_INFO, {"kind": "types", "types": ["prescription"]})
    # Granting again changes the grant (scope, expiry): same id, one grant.
    assert patient.grant(space, DOCTOR_INFO) == first
    (grant,) = patient.grants(space)
    assert grant.grant_id == first and grant.scope["kind"] == "space" and grant.active
    doctor.read(space, document_id, BytesIO())
    patient.revoke(space, first)
    with pytest.raises(UnknownDocument):
        doctor.read(space, document_id, BytesIO())
    # The patient may also revoke by professional, whatever the grant's id.
    patient.grant(space, DOCTOR_INFO)
    doctor.read(space, document_id, BytesIO())
    patient.revoke_professional(space, DOCTOR.id)
    with pytest.raises(UnknownDocument):
        doctor.read(space, document_id, BytesIO())
    with pytest.raises(UnknownGrant):
        patient.revoke_professional(space, DOCTOR.id)


def test_representatives_refusals(connect: Connect, space: str) -> None:
    registry, hospital = connect(REGISTRY), connect(HOSPITAL)
    # Only an authorised registry service appoints a representative: not the patient,
    # not the hospital that deposits into the space.
    for caller in (connect(PATIENT), hospital):
        with pytest.raises(Forbidden):
            caller.add_representative(space, GUARDIAN.id, GUARDIAN.name, "guardian", **COURT)
    # A parent is recorded only with the birth date (the register's), absent here.
    with pytest.raises(InvalidInput):
        registry.add_representative(space, GUARDIAN.id, GUARDIAN.name, "parent", **COURT)
    with pytest.raises(UnknownRepresentative):
        registry.end_representation(space, GUARDIAN.id)
    assert connect(PATIENT).access_rules(space)["representatives"] == []
