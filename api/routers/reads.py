"""Reading: the listing of a space's documents, the read itself (a recorded decision,
then the data key sealed to the reader's approved device, ``api.routers.devices``) and
the ciphertext's download by short-lived ticket. Use cases in ``vault.reads``.

A content ticket is handed out by a recorded read and is the only credential of the
download, so fetching the bytes needs no bearer token (a browser or a
presigned-URL-shaped client can follow it). The bytes are ciphertext; the key
travelled separately, sealed to the reader. With S3, reads hand out presigned S3 URLs
instead by default (``COFFRE_S3_PRESIGN``), so the relay serves the file store and S3
deployments that turn presigning off.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentActor, VaultDep
from api.models import (
    DocumentList,
    DocumentListed,
    DocumentPublic,
    DocumentQuery,
    ReadCreate,
    ReleasePublic,
    Uuid,
)
from api.routers.common import PatientId, Router, problem_responses
from vault.tickets import MAX_TICKET_LENGTH
from wire.dto import Release

#: the operation ids' tags (``<tag>-<name>``) predate this module and must not change
_DOCUMENTS = {"tags": ["documents"], "responses": problem_responses(401, 403, 404, 422)}

router = Router(prefix="/v1")

DocumentId = Annotated[Uuid, Path(description="the document's id")]
Ticket = Annotated[str, Path(max_length=MAX_TICKET_LENGTH, description="from a read release")]


@router.get("/spaces/{patient_id}/documents", name="list_documents", **_DOCUMENTS)
def list_documents(
    patient_id: PatientId,
    query: Annotated[DocumentQuery, Query()],
    vault: VaultDep,
    actor: CurrentActor,
) -> DocumentList:
    """A page of the documents the caller may read, in deposit order, with their
    confidentiality codes; others are not even counted (so no code that hides a document
    from the caller shows here). ``next_cursor`` is the next page's ``after``."""
    page = vault.documents_page(patient_id, actor, after=query.after, limit=query.limit)
    return DocumentList(
        documents=[DocumentListed.model_validate(d) for d in page.documents],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/spaces/{patient_id}/documents/{document_id}/reads",
    name="read_document",
    tags=["documents"],
    responses=problem_responses(400, 401, 403, 404, 410, 422, 503),
)
async def read_document(
    patient_id: PatientId,
    document_id: DocumentId,
    body: ReadCreate,
    request: Request,
    vault: VaultDep,
    actor: CurrentActor,
) -> ReleasePublic:
    """Record a read, then release the data key sealed to the caller's approved device.

    A refused read is recorded too, and answers exactly like an unknown document; a read
    by a device not approved (or revoked) is recorded as refused and answers 403.
    """
    # The hottest route (bench row 5). ``async`` with the use case alone in the thread
    # pool: a plain ``def`` route also has its answer validated in the pool, a second
    # hop (a worker thread woken, the event loop woken back) per read.
    release = await run_in_threadpool(
        vault.read, patient_id, document_id, actor, body.reader_key_id
    )
    return ReleasePublic(
        access_id=release.access_id,
        document=DocumentPublic.model_validate(release.document),
        sha256=release.sha256,
        sealed_key=release.sealed_key,
        content_url=_content_url(request, release),
        expires_at=release.expires_at,
        content_alternates=list(release.content_alternates) if release.content_url else [],
    )


@router.get(
    "/content/{ticket}",
    name="read_content",
    tags=["content"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the ciphertext"},
        **problem_responses(400, 404, 422, 503),
    },
)
def read_content(ticket: Ticket, vault: VaultDep) -> StreamingResponse:
    """Stream the ciphertext a valid, unexpired content ticket names."""
    size, chunks = vault.open_content(ticket)
    # Close the blob stream (file, S3 connection) even when the client leaves early.
    close = getattr(chunks, "close", None)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
        background=BackgroundTask(close) if close is not None else None,
    )


def _content_url(request: Request, release: Release) -> str:
    # A presigned blob-store URL when the vault made one, else our own download route,
    # as a path relative to the API (behind a proxy, under its root path).
    if release.content_url:
        return release.content_url
    path = request.app.url_path_for("read_content", ticket=release.content_ticket)
    return f"{request.scope.get('root_path', '').rstrip('/')}{path}"
