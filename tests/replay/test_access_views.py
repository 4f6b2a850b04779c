"""Access views: who may read what right now, on both backends, and its API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from coffre.bootstrap import Coffre
from domain.records import Setting
from domain.space import Space
from domain.values import Scope, ScopeKind
from projections.access_views import AccessViews
from projections.runner import wait_for
from tests.replay.views import rebuilt, snapshot
from tests.scenarios.conftest import Cast, deposit
from wire.values import DocumentType


def views(coffre: Coffre) -> AccessViews:
    wait_for(coffre.runner)
    return AccessViews(coffre.views)


def reader_ids(coffre: Coffre, document_id: Any) -> list[str]:
    now = coffre.vault.clock.now()
    return [row["grantee"]["id"] for row in views(coffre).for_document(document_id, now)]


def test_grants_revocations_expiry_and_blocks_are_reflected(coffre: Coffre, cast: Cast) -> None:
    patient, doctor, nurse = cast.patient.actor, cast.doctor.actor, cast.nurse.actor
    space_id = Space.create_id(patient.id)
    clock = coffre.vault.clock
    expiry = clock.now() + timedelta(days=1)
    lasting = coffre.vault.grant(patient.id, doctor, Scope.whole_space(), None, patient)
    coffre.vault.grant(patient.id, nurse, Scope.whole_space(), expiry, patient)
    coffre.vault.change_setting(patient.id, Setting.EMERGENCY_ACCESS_FORBIDDEN, True, patient)
    coffre.vault.designate_attending_physician(patient.id, doctor, patient)

    seen = views(coffre).for_patient(space_id, clock.now())
    assert sorted(g["grantee"]["id"] for g in seen["grants"]) == sorted([doctor.id, nurse.id])
    nurse_grant = next(g for g in seen["grants"] if g["grantee"]["id"] == nurse.id)
    assert nurse_grant["expires_at"] == expiry and nurse_grant["scope"]["kind"] == "space"
    assert seen["settings"]["emergency_forbidden"] is True
    assert seen["settings"]["emergency_reveals_masked"] is False
    assert seen["settings"]["attending_physician_id"] == doctor.id
    assert seen["settings"]["patient_id"] == patient.id and seen["blocked"] == []

    # Expiry is evaluated at query time; revocation and blocks as projected.
    later = clock.now() + timedelta(days=2)
    assert [g["grantee"]["id"] for g in views(coffre).active_grants(space_id, later)] == [doctor.id]
    coffre.vault.revoke(patient.id, lasting, patient)
    coffre.vault.block(patient.id, nurse, patient)
    seen = views(coffre).for_patient(space_id, clock.now())
    assert [g["grantee"]["id"] for g in seen["grants"]] == [nurse.id]
    assert seen["blocked"] == [nurse.id]
    assert views(coffre).for_professional(nurse.id, clock.now()) == []
    coffre.vault.unblock(patient.id, nurse.id, patient)
    assert len(views(coffre).for_professional(nurse.id, clock.now())) == 1
    assert views(coffre).for_professional(doctor.id, clock.now()) == []


def test_a_professional_lists_exactly_the_spaces_they_may_read(coffre: Coffre, cast: Cast) -> None:
    patient, doctor = cast.patient.actor, cast.doctor.actor
    clock = coffre.vault.clock
    types = Scope(ScopeKind.TYPES, types=frozenset({DocumentType.LAB_RESULT}))
    grant_id = coffre.vault.grant(patient.id, doctor, types, None, patient)
    spaces = views(coffre).for_professional(doctor.id, clock.now())
    assert [(s["patient_id"], s["grant_id"]) for s in spaces] == [(patient.id, str(grant_id))]
    assert spaces[0]["scope"] == {"kind": "types", "types": ["lab_result"], "documents": []}
    # Neither the nurse (no grant) nor the stranger may read anything.
    assert views(coffre).for_professional(cast.nurse.actor.id, clock.now()) == []
    assert views(coffre).for_professional(cast.stranger.actor.id, clock.now()) == []


def test_a_documents_readers_follow_the_grants_scopes(coffre: Coffre, cast: Cast) -> None:
    patient, doctor, nurse, stranger = (
        cast.patient.actor,
        cast.doctor.actor,
        cast.nurse.actor,
        cast.stranger.actor,
    )
    lab = deposit(coffre, patient.id, b"lab", patient, type=DocumentType.LAB_RESULT)
    vaccine = deposit(coffre, patient.id, b"vax", patient, type=DocumentType.VACCINATION)
    coffre.vault.grant(patient.id, doctor, Scope.whole_space(), None, patient)
    by_type = Scope(ScopeKind.TYPES, types=frozenset({DocumentType.VACCINATION}))
    coffre.vault.grant(patient.id, nurse, by_type, None, patient)
    listed = Scope(ScopeKind.DOCUMENTS, documents=frozenset({lab}))
    coffre.vault.grant(patient.id, stranger, listed, None, patient)

    assert reader_ids(coffre, lab) == sorted([doctor.id, stranger.id])
    assert reader_ids(coffre, vaccine) == sorted([doctor.id, nurse.id])
    coffre.vault.block(patient.id, doctor, patient)
    assert reader_ids(coffre, lab) == [stranger.id]
    coffre.vault.delete_document(patient.id, vaccine, patient)
    assert reader_ids(coffre, vaccine) == []

    before = snapshot(coffre.runner)
    assert before["view_grants"] and before["view_documents"] and before["view_blocks"]
    assert rebuilt(coffre.runner) == before


def test_api_lists_my_spaces_and_a_documents_readers(coffre: Coffre, cast: Cast) -> None:
    patient, doctor = cast.patient.actor, cast.doctor.actor
    document_id = deposit(coffre, patient.id, b"lab", patient)
    grant_id = coffre.vault.grant(patient.id, doctor, Scope.whole_space(), None, patient)
    wait_for(coffre.runner)  # on PostgreSQL the projections run in a worker, not the API
    with TestClient(create_app(coffre)) as client:

        def get(url: str, actor: Any) -> Any:
            token = coffre.tokens.mint(actor)
            return client.get(url, headers={"Authorization": f"Bearer {token}"})

        mine = get("/v1/me/spaces", doctor)
        assert mine.status_code == 200, mine.text
        assert [s["grant_id"] for s in mine.json()["spaces"]] == [str(grant_id)]
        assert get("/v1/me/spaces", patient).status_code == 403

        url = f"/v1/spaces/{patient.id}/documents/{document_id}/readers"
        answer = get(url, patient)
        assert answer.status_code == 200, answer.text
        assert [r["professional"]["id"] for r in answer.json()["readers"]] == [doctor.id]
        assert get(url, doctor).status_code == 403
        unknown = f"/v1/spaces/{patient.id}/documents/{grant_id}/readers"
        assert get(unknown, patient).status_code == 404


def test_a_masked_document_is_listed_only_for_an_allowed_attending_physician(
    coffre: Coffre, cast: Cast
) -> None:
    patient, doctor, stranger = cast.patient.actor, cast.doctor.actor, cast.stranger.actor
    document_id = deposit(coffre, patient.id, b"lab", patient)
    for professional in (doctor, stranger):
        coffre.vault.grant(patient.id, professional, Scope.whole_space(), None, patient)
    coffre.vault.mask(patient.id, document_id, patient)
    assert reader_ids(coffre, document_id) == []
    coffre.vault.designate_attending_physician(patient.id, doctor, patient)
    coffre.vault.change_setting(patient.id, Setting.ATTENDING_PHYSICIAN_SEES_MASKED, True, patient)
    assert reader_ids(coffre, document_id) == [doctor.id]
    coffre.vault.unmask(patient.id, document_id, patient)
    assert reader_ids(coffre, document_id) == sorted([doctor.id, stranger.id])


def test_a_masked_documents_readers_are_decide_reads_author_and_emergency_included(
    coffre: Coffre, cast: Cast
) -> None:
    # The view re-implemented the mask rule and listed, for a masked document, only an
    # allowed attending physician; the domain also lets its author and, when the patient
    # lets emergencies reveal masked documents, a professional in an emergency access.
    patient, doctor, stranger = cast.patient.actor, cast.doctor.actor, cast.stranger.actor
    document_id = deposit(coffre, patient.id, b"lab", doctor)
    for professional in (doctor, stranger):
        coffre.vault.grant(patient.id, professional, Scope.whole_space(), None, patient)
    coffre.vault.mask(patient.id, document_id, patient)
    assert reader_ids(coffre, document_id) == [doctor.id]
    coffre.vault.change_setting(patient.id, Setting.EMERGENCY_REVEALS_MASKED, True, patient)
    coffre.vault.invoke_emergency_access(patient.id, "Patient inconscient", stranger)
    assert reader_ids(coffre, document_id) == sorted([doctor.id, stranger.id])
    coffre.vault.clock.advance(timedelta(days=2))  # the emergency access ended
    assert reader_ids(coffre, document_id) == [doctor.id]
