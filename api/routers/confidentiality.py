"""A document's confidentiality codes: masked from professionals (MASQUE_PS), invisible
to the legal representatives (INVISIBLE_REPRESENTANTS_LEGAUX), released to the patient
after an announcement consultation (INVISIBLE_PATIENT). Use cases in
``vault.confidentiality``.

A document the caller may not see answers 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from api.deps import VaultDep, require_roles
from api.models import Uuid
from api.routers.common import PatientId, problem_responses
from domain.values import Actor
from wire.values import Role

router = APIRouter(
    prefix="/v1/spaces/{patient_id}/documents/{document_id}",
    tags=["masks"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

DocumentId = Annotated[Uuid, Path(description="the document's id")]
HolderActor = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REPRESENTATIVE))]
#: the holder, or the document's author (a professional or a service)
HolderOrAuthor = Annotated[
    Actor,
    Depends(require_roles(Role.PATIENT, Role.REPRESENTATIVE, Role.PROFESSIONAL, Role.SERVICE)),
]
AuthorActor = Annotated[Actor, Depends(require_roles(Role.PROFESSIONAL, Role.SERVICE))]
PatientOrAuthor = Annotated[
    Actor, Depends(require_roles(Role.PATIENT, Role.PROFESSIONAL, Role.SERVICE))
]

_NO_CONTENT = {"status_code": status.HTTP_204_NO_CONTENT}


@router.put("/mask", name="mask", **_NO_CONTENT)
def mask(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: HolderOrAuthor
) -> Response:
    """Mask the document from professionals (its author still sees it)."""
    vault.mask(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/mask", name="unmask", **_NO_CONTENT)
def unmask(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: HolderActor
) -> Response:
    """Show the document to professionals again."""
    vault.unmask(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/secret-from-representatives", name="hide_from_representatives", **_NO_CONTENT)
def hide_from_representatives(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: PatientOrAuthor
) -> Response:
    """Keep the document secret from the legal representatives (a minor's right)."""
    vault.hide_from_representatives(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/release", name="release_to_patient", **_NO_CONTENT)
def release_to_patient(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: AuthorActor
) -> Response:
    """The author releases a document held for an announcement consultation."""
    vault.release_to_patient(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
