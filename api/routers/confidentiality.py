"""A document's confidentiality codes, one name each (``domain.confidentiality``), each a
sub-resource of the document: ``/mask`` (``masked``, MASQUE_PS: PUT sets, DELETE lifts),
``/invisible-to-representatives`` (INVISIBLE_REPRESENTANTS_LEGAUX: PUT sets, one-way),
``/invisible-to-patient`` (INVISIBLE_PATIENT, set with the deposit: DELETE releases it
after the announcement consultation). Use cases in ``vault.confidentiality``.

The old paths ``PUT .../secret-from-representatives`` and ``POST .../release`` remain as
deprecated aliases of the same handlers.

A document the caller may not see answers 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response, status

from api.deps import VaultDep, require_roles
from api.models import Uuid
from api.routers.common import PatientId, Router, problem_responses
from domain.values import Actor
from wire.values import Role

router = Router(
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


@router.put("/invisible-to-representatives", name="hide_from_representatives", **_NO_CONTENT)
def hide_from_representatives(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: PatientOrAuthor
) -> Response:
    """Make the document invisible to the legal representatives (a minor's right; one-way)."""
    vault.hide_from_representatives(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/invisible-to-patient", name="release_to_patient", **_NO_CONTENT)
def release_to_patient(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: AuthorActor
) -> Response:
    """The author releases a document invisible to the patient until an announcement
    consultation: the patient sees it at once."""
    vault.release_to_patient(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# The paths these had before the codes got one name each: same handlers, kept for
# existing clients, marked deprecated in the OpenAPI document.
router.add_api_route(
    "/secret-from-representatives",
    hide_from_representatives,
    methods=["PUT"],
    name="hide_from_representatives_old_path",
    summary="Hide From Representatives (old path of PUT .../invisible-to-representatives)",
    deprecated=True,
    **_NO_CONTENT,
)
router.add_api_route(
    "/release",
    release_to_patient,
    methods=["POST"],
    name="release_to_patient_old_path",
    summary="Release To Patient (old path of DELETE .../invisible-to-patient)",
    deprecated=True,
    **_NO_CONTENT,
)
