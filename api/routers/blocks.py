"""Who may read, beyond grants: blocked professionals, the attending physician, the
patient's settings, the care team — and the list of who may currently read what.

Use cases in ``vault.blocks`` (the care team's in ``vault.grants``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response, status

from api.blocks_models import AccessRulesOut, CareTeamIn, CareTeamOut, PhysicianIn, SettingIn
from api.deps import ServiceActor, VaultDep, require_roles
from api.grants_models import GranteeIn
from api.routers.common import PatientId, Router, problem_responses
from domain.records import Setting
from domain.values import Actor
from wire.values import Role

router = Router(
    prefix="/v1/spaces/{patient_id}",
    tags=["access-rules"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

HolderActor = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REPRESENTATIVE))]
ProfessionalId = Annotated[str, Path(max_length=64, description="RPPS number")]
SettingName = Annotated[Setting, Path(description="the setting")]


@router.get("/access-rules", name="access_rules")
def access_rules(patient_id: PatientId, vault: VaultDep, actor: HolderActor) -> AccessRulesOut:
    """Grants and care team, blocked professionals, attending physician, settings,
    representatives and emergency accesses."""
    return AccessRulesOut.model_validate(vault.access_rules(patient_id, actor))


@router.put("/blocks", name="block", status_code=status.HTTP_204_NO_CONTENT)
def block(patient_id: PatientId, body: GranteeIn, vault: VaultDep, actor: HolderActor) -> Response:
    """Block a professional from every document of the space."""
    vault.block(patient_id, body.actor(), actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/blocks/{professional_id}", name="unblock", status_code=status.HTTP_204_NO_CONTENT)
def unblock(
    patient_id: PatientId, professional_id: ProfessionalId, vault: VaultDep, actor: HolderActor
) -> Response:
    """Lift a block."""
    vault.unblock(patient_id, professional_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/attending-physician", name="designate_attending_physician", status_code=204)
def designate_attending_physician(
    patient_id: PatientId, body: PhysicianIn, vault: VaultDep, actor: HolderActor
) -> Response:
    """Name the attending physician (médecin traitant), or none."""
    physician = body.physician.actor() if body.physician else None
    vault.designate_attending_physician(patient_id, physician, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/settings/{setting}", name="change_setting", status_code=204)
def change_setting(
    patient_id: PatientId,
    setting: SettingName,
    body: SettingIn,
    vault: VaultDep,
    actor: HolderActor,
) -> Response:
    """Forbid emergency access, let emergencies or the attending physician see masked
    documents."""
    vault.change_setting(patient_id, setting, body.value, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/care-team", name="add_to_care_team", status_code=status.HTTP_201_CREATED)
def add_to_care_team(
    patient_id: PatientId, body: CareTeamIn, vault: VaultDep, actor: ServiceActor
) -> CareTeamOut:
    """An establishment declares a member of the care team (a grant the patient sees and
    may revoke)."""
    grant_id = vault.add_to_care_team(patient_id, body.professional.actor(), body.expires_at, actor)
    return CareTeamOut(grant_id=grant_id)
