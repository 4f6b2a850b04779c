"""Emergency access (bris de glace): a professional declares it, with a justification."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, status

from api.deps import VaultDep, require_roles
from api.emergency_models import EmergencyIn, EmergencyOut
from api.routers.common import PatientId, Router, problem_responses
from domain.values import Actor
from wire.values import Role

router = Router(
    prefix="/v1/spaces/{patient_id}/emergency-accesses",
    tags=["emergency"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

ProfessionalActor = Annotated[Actor, Depends(require_roles(Role.PROFESSIONAL))]


@router.post("", name="invoke_emergency_access", status_code=status.HTTP_201_CREATED)
def invoke_emergency_access(
    patient_id: PatientId, body: EmergencyIn, vault: VaultDep, actor: ProfessionalActor
) -> EmergencyOut:
    """Declare an emergency access for 24 hours; refused (403, recorded) when the patient
    forbade it. The patient and the attending physician are notified."""
    return EmergencyOut.model_validate(
        vault.invoke_emergency_access(patient_id, body.justification, actor)
    )
