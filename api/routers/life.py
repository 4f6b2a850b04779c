"""The life of a space: provisioning (one by one, the insurer's register), opposition,
activation, closure, deletion on request, re-opening, new codes (RULES.md, "Life of a
space"). Use cases in ``vault.life``.

Each route is one vault call; the vault decides who may do what to which space.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Response, status

from api.deps import ServiceActor, VaultDep, require_roles
from api.life_models import (
    ClosureIn,
    CodeIn,
    ProvisionedOut,
    RegisterIn,
    RegisterOut,
    SpaceStateOut,
)
from api.models import SpaceCreate
from api.routers.common import PatientId, Router, problem_responses
from domain.values import Actor
from wire.dto import RegisterEntry, RepresentativeEntry
from wire.values import Role

#: the operation ids' tags (``<tag>-<name>``) predate this module and must not change
_LIFE = {"tags": ["space-life"], "responses": problem_responses(401, 403, 404, 422)}

router = Router(prefix="/v1/spaces")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    name="provision_space",
    tags=["spaces"],
    responses=problem_responses(401, 403, 409, 422),
)
def provision_space(body: SpaceCreate, vault: VaultDep, actor: ServiceActor) -> ProvisionedOut:
    """Provision a patient's space (platform services only).

    The answer carries the one-time code for the person's letter, once: the vault keeps
    only its digest. The space opens at ``opens_at`` unless the person opposes, or
    earlier when they activate it with the code.
    """
    return ProvisionedOut.model_validate(vault.provision(body.patient_id, actor))


def _with(*statuses: int) -> dict[str, Any]:
    # The life routes' tag and problems, plus ``statuses``.
    return {**_LIFE, "responses": {**_LIFE["responses"], **problem_responses(*statuses)}}


#: the patient, or someone representing them (the vault checks it is *this* patient's)
HolderActor = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REPRESENTATIVE))]


@router.post("/register", name="provision_register", status_code=status.HTTP_200_OK, **_LIFE)
def provision_register(body: RegisterIn, vault: VaultDep, actor: ServiceActor) -> RegisterOut:
    """Provision spaces for a batch of the insurer's register; idempotent.

    Answers each new space's one-time code (for its letter), once; people who already
    have a space are listed, not refused.
    """
    entries = [
        RegisterEntry(
            e.patient_id,
            e.birth_date,
            tuple(RepresentativeEntry(r.id, r.name, r.kind) for r in e.representatives),
        )
        for e in body.entries
    ]
    report = vault.provision_register(entries, actor)
    return RegisterOut(
        provisioned=[ProvisionedOut.model_validate(p) for p in report.provisioned],
        already_provisioned=report.already_provisioned,
    )


@router.get("/{patient_id}/state", name="space_state", **_LIFE)
def space_state(patient_id: PatientId, vault: VaultDep, actor: HolderActor) -> SpaceStateOut:
    """Where the space is in its life: pending, opposed, open, closed or deleted."""
    return SpaceStateOut.model_validate(vault.space_state(patient_id, actor))


@router.post(
    "/{patient_id}/opposition",
    name="oppose",
    status_code=status.HTTP_204_NO_CONTENT,
    **_with(409),
)
def oppose(patient_id: PatientId, body: CodeIn, vault: VaultDep, actor: HolderActor) -> Response:
    """Oppose the space before it opens, with the letter's code (a wrong code: 403)."""
    vault.oppose(patient_id, body.code, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{patient_id}/activation",
    name="activate",
    status_code=status.HTTP_204_NO_CONTENT,
    **_with(409),
)
def activate(patient_id: PatientId, body: CodeIn, vault: VaultDep, actor: HolderActor) -> Response:
    """Activate the space with the letter's code (a wrong code: 403)."""
    vault.activate(patient_id, body.code, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{patient_id}/closure", name="close_space", **_with(409))
def close_space(
    patient_id: PatientId, body: ClosureIn, vault: VaultDep, actor: HolderActor
) -> SpaceStateOut:
    """Close the space: archived for 10 years, or deleted on express request."""
    state = vault.close_space(patient_id, actor, express_deletion=body.express_deletion)
    return SpaceStateOut.model_validate(state)


@router.post("/{patient_id}/deletion-request", name="request_deletion", **_with(409))
def request_deletion(patient_id: PatientId, vault: VaultDep, actor: HolderActor) -> SpaceStateOut:
    """Ask for a closed space's archive to be deleted without waiting."""
    return SpaceStateOut.model_validate(vault.request_deletion(patient_id, actor))


@router.post(
    "/{patient_id}/reopening",
    name="reopen",
    status_code=status.HTTP_201_CREATED,
    **_with(409),
)
def reopen(patient_id: PatientId, vault: VaultDep, actor: ServiceActor) -> ProvisionedOut:
    """Open a new space for a person who closed or opposed one (archive re-imported)."""
    return ProvisionedOut.model_validate(vault.reopen(patient_id, actor))


@router.post(
    "/{patient_id}/codes",
    name="reissue_code",
    status_code=status.HTTP_201_CREATED,
    **_with(409),
)
def reissue_code(patient_id: PatientId, vault: VaultDep, actor: ServiceActor) -> ProvisionedOut:
    """A new one-time code (a lost letter, or a code locked after wrong attempts)."""
    return ProvisionedOut.model_validate(vault.reissue_code(patient_id, actor))
