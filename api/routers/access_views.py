"""Who may read what, as lists: a professional's readable spaces, a document's readers.

Served from the access views (``projections/access_views.py``): for display only, they
may lag the log by a moment. Authorisation never reads them; every read is decided on
the space itself (invariant 4).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import CurrentActor, RunnerDep, SettingsDep, VaultDep, require_roles
from api.models import Uuid
from api.routers.common import PatientId, problem_responses
from domain.space import Space
from domain.values import Actor
from projections.access_views import AccessViews
from wire.errors import Forbidden, UnknownDocument
from wire.values import Role

router = APIRouter(prefix="/v1", tags=["access-views"], responses=problem_responses(401, 403))

ProfessionalActor = Annotated[Actor, Depends(require_roles(Role.PROFESSIONAL))]


def get_access_views(runner: RunnerDep) -> AccessViews:
    """The access views, in the same database as the other views."""
    return AccessViews(runner.store)


AccessViewsDep = Annotated[AccessViews, Depends(get_access_views)]


@router.get("/me/spaces", name="my_spaces")
def my_spaces(
    views: AccessViewsDep,
    runner: RunnerDep,
    settings: SettingsDep,
    vault: VaultDep,
    actor: ProfessionalActor,
) -> dict[str, Any]:
    """The spaces the calling professional may read now, with the patient and the scope."""
    if settings.run_projections_in_process:
        runner.catch_up()
    rows = views.for_professional(actor.id, vault.clock.now())
    return {"spaces": [_space(row) for row in rows]}


@router.get(
    "/spaces/{patient_id}/documents/{document_id}/readers",
    name="document_readers",
    responses=problem_responses(404, 422),
)
def document_readers(
    patient_id: PatientId,
    document_id: Uuid,
    views: AccessViewsDep,
    runner: RunnerDep,
    settings: SettingsDep,
    vault: VaultDep,
    actor: CurrentActor,
) -> dict[str, Any]:
    """The professionals who may read this document now through a grant (the patient only).

    A document of another space, deleted, or still held for an announcement is
    answered as unknown: the list never reveals a document the patient may not see.
    """
    if actor.role is not Role.PATIENT or actor.id != patient_id:
        raise Forbidden("only the patient lists who may read their documents")
    if settings.run_projections_in_process:
        runner.catch_up()
    document = views.document(document_id)
    if (
        document is None
        or str(document["space_id"]) != str(Space.create_id(patient_id))
        or document["deleted"]
        or document["held"]
    ):
        raise UnknownDocument("no such document in this space")
    readers = views.for_document(document_id, vault.clock.now())
    return {"document_id": str(document_id), "readers": [_reader(row) for row in readers]}


def _space(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": row["patient_id"],
        "space_id": str(row["space_id"]),
        "grant_id": str(row["grant_id"]),
        "scope": row["scope"],
        "expires_at": row["expires_at"],
        "care_team": row["care_team"],
    }


def _reader(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "professional": row["grantee"],
        "grant_id": str(row["grant_id"]),
        "scope_kind": row["scope"]["kind"],
        "expires_at": row["expires_at"],
        "care_team": row["care_team"],
    }
