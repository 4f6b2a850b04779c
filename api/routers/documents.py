"""Documents of a space: upload ciphertext, deposit, list, read (key release), delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from api import problems
from api.deps import CurrentActor, DepositorActor, PatientActor, VaultDep
from api.middleware import CLOSE
from api.models import (
    DepositCreate,
    DepositCreated,
    DocumentList,
    DocumentPublic,
    ReadCreate,
    ReleasePublic,
    Upload,
    Uuid,
)
from api.routers.common import PatientId, problem_responses
from vault.rules import Confidentiality
from wire.dto import Release
from wire.errors import Unavailable

router = APIRouter(
    prefix="/v1/spaces/{patient_id}",
    tags=["documents"],
    responses=problem_responses(401, 403, 404, 422),
)

DocumentId = Annotated[Uuid, Path(description="the document's id")]

#: defaults of ``COFFRE_UPLOADS_PER_CALLER`` and ``COFFRE_UPLOAD_CONCURRENCY``
UPLOADS_PER_CALLER = 4
UPLOAD_CONCURRENCY = 16

_OCTET_STREAM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}

#: besides the router's: what the upload guards answer (``api.middleware``, ``_Slots``)
_UPLOAD_PROBLEMS = {
    **problem_responses(409, 413, 503),
    408: {**problem_responses(408)[408], "description": "body-timeout (stalled or too slow)"},
    429: {
        **problem_responses(429)[429],
        "description": "too-many-uploads for this caller (Retry-After)",
    },
}


def _pull(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A blocking iterator over an async body stream, for use in a worker thread.

    Each ``next()`` hops back to the event loop for one chunk, so at most one chunk of
    the document is in memory; a client disconnect surfaces here as ``ClientDisconnect``
    and a stalled body as the 408 of ``api.middleware.PacedBody``: either aborts the
    blob store's (atomic) put, which removes what it had written.
    """

    async def next_chunk() -> bytes | None:
        try:
            return await anext(stream)
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


class _Slots:
    """Upload slots: at most ``per_caller`` per actor and ``total`` in the process.

    An upload holds a worker thread while its client sends, so slots are claimed
    without waiting: a caller beyond its share gets a 429 at once, and everyone a 503
    once the process is full, instead of queueing behind uploads that may stall (the
    body's pacing, ``api.middleware.PacedBody``, frees a stalled slot). Used only on
    the event loop's thread, so the counts need no lock.
    """

    def __init__(self, per_caller: int, total: int) -> None:
        self.per_caller = per_caller
        self.total = total
        # Threads for uploads only: slow uploads never starve the other routes' pool.
        self.threads = anyio.CapacityLimiter(total)
        self._by_caller: dict[str, int] = {}
        self._in_use = 0

    @contextmanager
    def claim(self, caller: str) -> Iterator[None]:
        """Hold one slot for ``caller`` for the duration of the block."""
        held = self._by_caller.get(caller, 0)
        if held >= self.per_caller:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": problems.RETRY_AFTER_SECONDS, **CLOSE},
            )
        if self._in_use >= self.total:
            raise Unavailable("the server is receiving as many uploads as it can; retry shortly")
        self._by_caller[caller] = held + 1
        self._in_use += 1
        try:
            yield
        finally:
            self._in_use -= 1
            left = self._by_caller[caller] - 1
            if left:
                self._by_caller[caller] = left
            else:
                del self._by_caller[caller]


def _slots(request: Request) -> _Slots:
    # One per application, made on first use (always on the event loop's thread).
    state = request.app.state
    if getattr(state, "upload_slots", None) is None:
        settings = getattr(state.services, "settings", None)
        state.upload_slots = _Slots(
            getattr(settings, "uploads_per_caller", UPLOADS_PER_CALLER),
            getattr(settings, "upload_concurrency", UPLOAD_CONCURRENCY),
        )
    return state.upload_slots  # type: ignore[no-any-return]


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    name="upload_ciphertext",
    openapi_extra=_OCTET_STREAM_BODY,
    responses=_UPLOAD_PROBLEMS,
)
async def upload_ciphertext(
    patient_id: PatientId, request: Request, vault: VaultDep, actor: DepositorActor
) -> Upload:
    """Stream a document's ciphertext (a Coffre envelope) into the blob store.

    Returns the receipt that the deposit names. Nothing is recorded yet; a blob that is
    never deposited is collected as an orphan. A caller may have a few uploads in
    progress at once (429 beyond); a body that stalls or trickles is ended with a 408,
    one longer than announced or than the vault accepts with a 413.
    """
    slots = _slots(request)
    with slots.claim(f"{actor.role.value}:{actor.id}"):
        chunks = _pull(request.stream().__aiter__())
        receipt = await anyio.to_thread.run_sync(
            vault.upload, patient_id, chunks, actor, limiter=slots.threads
        )
    return Upload(
        blob=receipt.blob,
        size=receipt.size,
        sha256=receipt.sha256,
        receipt=receipt.ticket,
        expires_at=receipt.expires_at,
    )


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    name="deposit_document",
    responses=problem_responses(400, 409),
)
def deposit_document(
    patient_id: PatientId, body: DepositCreate, vault: VaultDep, actor: DepositorActor
) -> DepositCreated:
    """Record the deposit of an uploaded ciphertext (or a new version of a document),
    with its confidentiality codes set in the same transaction."""
    codes = Confidentiality(
        masked=body.masked,
        invisible_to_patient=body.invisible_to_patient,
        invisible_to_representatives=body.invisible_to_representatives,
    )
    deposit = vault.deposit(
        patient_id, body.receipt, body.metadata(), body.sealed_key, actor, body.document_id, codes
    )
    return DepositCreated.model_validate(deposit)


@router.get("/documents", name="list_documents")
def list_documents(patient_id: PatientId, vault: VaultDep, actor: CurrentActor) -> DocumentList:
    """The documents the caller may read; others are not even counted."""
    documents = vault.documents(patient_id, actor)
    return DocumentList(documents=[DocumentPublic.model_validate(d) for d in documents])


@router.post(
    "/documents/{document_id}/reads",
    name="read_document",
    responses=problem_responses(400, 410, 503),
)
def read_document(
    patient_id: PatientId,
    document_id: DocumentId,
    body: ReadCreate,
    request: Request,
    vault: VaultDep,
    actor: CurrentActor,
) -> ReleasePublic:
    """Record a read, then release the data key sealed to the caller's reader key.

    A refused read is recorded too, and answers exactly like an unknown document.
    """
    release = vault.read(patient_id, document_id, actor, body.reader_key_id)
    return ReleasePublic(
        access_id=release.access_id,
        document=DocumentPublic.model_validate(release.document),
        sha256=release.sha256,
        sealed_key=release.sealed_key,
        content_url=_content_url(request, release),
        expires_at=release.expires_at,
    )


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    name="delete_document",
    responses=problem_responses(409),
)
def delete_document(
    patient_id: PatientId, document_id: DocumentId, vault: VaultDep, actor: PatientActor
) -> Response:
    """The patient deletes a document; its history stays, its content is unreadable."""
    vault.delete_document(patient_id, document_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _content_url(request: Request, release: Release) -> str:
    # A presigned blob-store URL when the vault made one, else our own download route,
    # as a path relative to the API (behind a proxy, under its root path).
    if release.content_url:
        return release.content_url
    path = request.app.url_path_for("read_content", ticket=release.content_ticket)
    return f"{request.scope.get('root_path', '').rstrip('/')}{path}"
