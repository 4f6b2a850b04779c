"""Documents of a space: the key depositors seal to, upload of a ciphertext (relayed
through the API, or direct to S3 by presigned multipart upload), deposit (or a new
version, with its confidentiality codes), deletion. Use cases in ``vault.documents``
and ``vault.uploads``; listing and reading are in ``api.routers.reads``.

The relay upload stays for the files backend and as the fallback: a 409
``direct-upload-unavailable`` from the direct routes says to use it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import HTTPException, Path, Request, Response, status

from api import problems
from api.deps import CurrentActor, DepositorActor, PatientActor, VaultDep
from api.middleware import CLOSE
from api.models import DepositCreate, DepositCreated, SpaceKey, Upload, Uuid
from api.routers.common import PatientId, Router, problem_responses
from api.uploads_models import (
    DirectUploadCompletion,
    DirectUploadIn,
    DirectUploadOut,
    DirectUploadRef,
    PartUrl,
)
from domain.confidentiality import Confidentiality
from wire.dto import UploadReceipt
from wire.errors import Unavailable

# Tags per route: the operation ids (``<tag>-<name>``) predate this module and stay.
router = Router(prefix="/v1/spaces/{patient_id}", responses=problem_responses(401, 403, 404, 422))
_DOCUMENTS = ["documents"]

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


@router.get("/key", name="space_key", tags=["spaces"])
def space_key(patient_id: PatientId, vault: VaultDep, actor: CurrentActor) -> SpaceKey:
    """The public key depositors seal data keys to."""
    return SpaceKey.model_validate(vault.space_key(patient_id, actor))


@router.post(
    "/uploads",
    tags=_DOCUMENTS,
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
    return _upload_answer(receipt)


def _upload_answer(receipt: UploadReceipt) -> Upload:
    # What a relayed and a direct upload both answer: the receipt the deposit names.
    return Upload(
        blob=receipt.blob,
        size=receipt.size,
        sha256=receipt.sha256,
        receipt=receipt.ticket,
        expires_at=receipt.expires_at,
    )


@router.post(
    "/documents",
    tags=_DOCUMENTS,
    status_code=status.HTTP_201_CREATED,
    name="deposit_document",
    responses={
        200: {
            "model": DepositCreated,
            "description": "Already deposited: the same source_id with the same ciphertext "
            "names this document; nothing was recorded",
        },
        **problem_responses(400, 409),
    },
)
def deposit_document(
    patient_id: PatientId,
    body: DepositCreate,
    vault: VaultDep,
    actor: DepositorActor,
    response: Response,
) -> DepositCreated:
    """Record the deposit of an uploaded ciphertext (or a new version of a document),
    with its confidentiality codes set in the same transaction.

    A deposit carrying a ``source_id`` already deposited with the same ciphertext is
    answered 200 with that document; with other content, 409 ``already-deposited``
    naming it (``document_id``), unless the body names that document to replace it.

    With ``upload`` and ``sha256`` instead of ``receipt``, a direct upload is completed
    first, with the checks of ``.../direct-uploads/complete`` (a refused upload is
    removed, 422), and nothing is recorded unless it passes them.
    """
    codes = Confidentiality(
        masked=body.masked,
        invisible_to_patient=body.invisible_to_patient,
        invisible_to_representatives=body.invisible_to_representatives,
    )
    if body.upload is not None and body.sha256 is not None:
        # a direct upload completed and deposited at once (checked before recording)
        record = partial(vault.deposit_direct_upload, patient_id, body.upload, body.sha256)
    else:
        assert body.receipt is not None  # DepositCreate's own check
        record = partial(vault.deposit, patient_id, body.receipt)
    deposit = record(
        body.metadata(), body.sealed_key, actor, body.document_id, codes, body.source()
    )
    if not deposit.created:
        response.status_code = status.HTTP_200_OK
    return DepositCreated.model_validate(deposit)


@router.delete(
    "/documents/{document_id}",
    tags=_DOCUMENTS,
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


# -- direct uploads (vault.uploads): the bytes go straight to S3, not through here --


@router.post(
    "/direct-uploads",
    tags=_DOCUMENTS,
    name="start_direct_upload",
    status_code=status.HTTP_201_CREATED,
    responses={
        **problem_responses(503),
        409: {
            **problem_responses(409)[409],
            "description": "direct-upload-unavailable (upload through POST .../uploads), "
            "or the space is not open",
        },
    },
)
def start_direct_upload(
    patient_id: PatientId, body: DirectUploadIn, vault: VaultDep, actor: DepositorActor
) -> DirectUploadOut:
    """Begin a direct upload of a ciphertext of ``size`` bytes (at most the vault's
    maximum document size): one presigned URL per part, every part but the last of
    exactly ``part_size`` bytes, all valid until ``expires_at``."""
    started = vault.start_direct_upload(patient_id, body.size, actor)
    return DirectUploadOut(
        upload=started.ticket,
        blob=started.blob,
        size=started.size,
        part_size=started.part_size,
        parts=[
            PartUrl(number=number, url=url, alternates=list(alternates))
            for number, (url, alternates) in enumerate(
                zip(
                    started.part_urls,
                    started.part_alternates or [()] * len(started.part_urls),
                    strict=True,
                ),
                1,
            )
        ],
        expires_at=started.expires_at,
        space_key=SpaceKey.model_validate(started.space_key),
        completes_on_deposit=True,
    )


#: what the routes on a begun upload share: a forged or expired ticket is a 400, no
#: direct uploads here a 409
_ON_UPLOAD: dict[str, Any] = {"tags": _DOCUMENTS, "responses": problem_responses(400, 409, 503)}


@router.post(
    "/direct-uploads/complete",
    name="complete_direct_upload",
    status_code=status.HTTP_201_CREATED,
    **_ON_UPLOAD,
)
def complete_direct_upload(
    patient_id: PatientId, body: DirectUploadCompletion, vault: VaultDep, actor: DepositorActor
) -> Upload:
    """Complete a direct upload once every part was sent; the vault checks the parts'
    sizes, the stored object's size and its envelope header, and answers the receipt
    the deposit names. A refused upload is removed (422)."""
    return _upload_answer(vault.complete_direct_upload(patient_id, body.upload, body.sha256, actor))


@router.post(
    "/direct-uploads/abort",
    name="abort_direct_upload",
    status_code=status.HTTP_204_NO_CONTENT,
    **_ON_UPLOAD,
)
def abort_direct_upload(
    patient_id: PatientId, body: DirectUploadRef, vault: VaultDep, actor: DepositorActor
) -> Response:
    """Abandon a direct upload: its parts are removed. A completed upload is left
    alone (it may be deposited by now); never deposited, it is collected as an orphan."""
    vault.abort_direct_upload(patient_id, body.upload, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
