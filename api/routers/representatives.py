"""Legal representatives: appointed and ended by an authorised registry service
(``COFFRE_REGISTRY_SERVICES``), never by a depositing hospital, on a legal basis (a
birth registration, a court decision). A parent's representation also ends at majority."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status

from api.deps import ServiceActor, VaultDep
from api.representatives_models import RepresentativeCreate
from api.routers.common import PatientId, Router, problem_responses
from domain.representatives import LegalBasis
from domain.values import Actor
from wire.values import Role

router = Router(
    prefix="/v1/spaces/{patient_id}/representatives",
    tags=["representatives"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

RepresentativeId = Annotated[str, Path(max_length=64, description="the representative's INS")]


@router.post("", name="add_representative", status_code=status.HTTP_204_NO_CONTENT)
def add_representative(
    patient_id: PatientId, body: RepresentativeCreate, vault: VaultDep, actor: ServiceActor
) -> Response:
    """Appoint a parent of a minor (until majority) or a guardian (until ended), on
    the act ``basis`` names. Only an authorised registry service may (403 otherwise,
    nothing recorded); the patient and the other representatives are notified."""
    person = body.representative
    representative = Actor(Role.REPRESENTATIVE, person.id, person.name)
    basis = LegalBasis(body.basis.reference, body.basis.date)
    vault.add_representative(
        patient_id, representative, person.kind, actor, body.until, basis=basis
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{representative_id}", name="end_representation", status_code=status.HTTP_204_NO_CONTENT
)
def end_representation(
    patient_id: PatientId, representative_id: RepresentativeId, vault: VaultDep, actor: ServiceActor
) -> Response:
    """End a representation."""
    vault.end_representation(patient_id, representative_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
