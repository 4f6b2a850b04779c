"""Grants: the patient lets professionals read parts of their space, and revokes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, status

from api.deps import PatientActor, VaultDep
from api.grants_models import GrantCreate, GrantCreated, GrantList, GrantPublic
from api.models import ID_MAX, Uuid
from api.routers.common import PatientId, Router, problem_responses

router = Router(
    prefix="/v1/spaces/{patient_id}/grants",
    tags=["grants"],
    responses=problem_responses(401, 403, 404, 422),
)

GrantId = Annotated[Uuid, Path(description="the grant's id")]
Professional = Annotated[
    str, Query(min_length=1, max_length=ID_MAX, description="the professional's RPPS number")
]


@router.post(
    "", status_code=status.HTTP_201_CREATED, name="grant", responses=problem_responses(409)
)
def grant(
    patient_id: PatientId, body: GrantCreate, vault: VaultDep, actor: PatientActor
) -> GrantCreated:
    """Grant a professional access to the whole space, some types or some documents.

    One grant per professional: granting again to a professional with an active grant
    changes it (scope, expiry) and answers its id."""
    grant_id = vault.grant(
        patient_id, body.grantee.actor(), body.scope.scope(), body.expires_at, actor
    )
    return GrantCreated(grant_id=grant_id)


@router.get("", name="list_grants")
def list_grants(patient_id: PatientId, vault: VaultDep, actor: PatientActor) -> GrantList:
    """Every grant of the space, active, expired or revoked."""
    grants = vault.grants(patient_id, actor)
    return GrantList(grants=[GrantPublic.model_validate(g) for g in grants])


@router.delete(
    "/{grant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    name="revoke",
    responses=problem_responses(409),
)
def revoke(
    patient_id: PatientId, grant_id: GrantId, vault: VaultDep, actor: PatientActor
) -> Response:
    """Revoke a grant: the grantee's very next read is refused."""
    vault.revoke(patient_id, grant_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    name="revoke_professional",
    responses=problem_responses(409),
)
def revoke_professional(
    patient_id: PatientId, professional: Professional, vault: VaultDep, actor: PatientActor
) -> Response:
    """Revoke a professional's access, whatever their grant's id: their next read is refused.

    404 when the professional holds no active grant in the space.
    """
    vault.revoke_professional(patient_id, professional, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
