"""Who may read what, as lists: a professional's readable spaces, a legal
representative's spaces, a document's readers.

Served from the access views (``projections/access_views.py``): for display only, they
may lag the log by a moment. Authorisation never reads them; whether the caller may
ask is decided by the vault on the space itself (``vault.reads.authorise_readers``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.deps import CurrentActor, FreshViewsDep, NowDep, VaultDep, require_roles
from api.models import Uuid
from api.routers.common import PatientId, Router, problem_responses
from api.views_models import (
    DocumentReader,
    DocumentReaders,
    ReadableSpace,
    ReadableSpaces,
    RepresentedSpace,
    RepresentedSpaces,
)
from domain.values import Actor
from wire.values import Role

router = Router(prefix="/v1", tags=["access-views"], responses=problem_responses(401, 403))

ProfessionalActor = Annotated[Actor, Depends(require_roles(Role.PROFESSIONAL))]
RepresentativeActor = Annotated[Actor, Depends(require_roles(Role.REPRESENTATIVE))]


@router.get("/me/spaces", name="my_spaces")
def my_spaces(views: FreshViewsDep, now: NowDep, actor: ProfessionalActor) -> ReadableSpaces:
    """The spaces the calling professional may read now, with the patient and the scope."""
    rows = views.access_views().for_professional(actor.id, now)
    return ReadableSpaces(spaces=[ReadableSpace.from_row(row) for row in rows])


@router.get("/me/represented-spaces", name="my_represented_spaces")
def my_represented_spaces(
    views: FreshViewsDep, now: NowDep, actor: RepresentativeActor
) -> RepresentedSpaces:
    """The spaces the calling legal representative acts in now (a parent's until the
    patient's majority), with the patient and the space's status: the page's list to
    switch between them. Acting there is decided on each space, not on this list."""
    rows = views.access_views().for_representative(actor, now)
    return RepresentedSpaces(spaces=[RepresentedSpace.from_row(row) for row in rows])


@router.get(
    "/spaces/{patient_id}/documents/{document_id}/readers",
    name="document_readers",
    responses=problem_responses(404, 422),
)
def document_readers(
    patient_id: PatientId,
    document_id: Uuid,
    vault: VaultDep,
    views: FreshViewsDep,
    now: NowDep,
    actor: CurrentActor,
) -> DocumentReaders:
    """The professionals who may read this document now through a grant (the patient only).

    A document of another space, deleted, or invisible to the patient is answered as
    unknown: the list never reveals a document the patient may not see.
    """
    vault.authorise_readers(patient_id, document_id, actor)
    rows = views.access_views().for_document(document_id, now)
    return DocumentReaders(
        document_id=document_id, readers=[DocumentReader.from_row(row) for row in rows]
    )
