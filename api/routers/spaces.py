"""Spaces: provisioning by a platform service, and the space's public key."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentActor, ServiceActor, VaultDep
from api.models import SpaceCreate, SpaceKey
from api.routers.common import PatientId, problem_responses
from api.rules_models import ProvisionedOut

router = APIRouter(prefix="/v1/spaces", tags=["spaces"], responses=problem_responses(401, 403))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    name="provision_space",
    responses=problem_responses(409, 422),
)
def provision_space(body: SpaceCreate, vault: VaultDep, actor: ServiceActor) -> ProvisionedOut:
    """Provision a patient's space (platform services only).

    The answer carries the one-time code for the person's letter, once: the vault keeps
    only its digest. The space opens at ``opens_at`` unless the person opposes, or
    earlier when they activate it with the code.
    """
    return ProvisionedOut.model_validate(vault.provision(body.patient_id, actor))


@router.get("/{patient_id}/key", name="space_key", responses=problem_responses(404, 422))
def space_key(patient_id: PatientId, vault: VaultDep, actor: CurrentActor) -> SpaceKey:
    """The public key depositors seal data keys to."""
    return SpaceKey.model_validate(vault.space_key(patient_id, actor))
