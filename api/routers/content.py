"""Ciphertext downloads by short-lived ticket: the ticket is the only credential.

A ticket is handed out by a recorded read, so fetching the bytes needs no bearer token
(a browser or a presigned-URL-shaped client can follow it). The bytes are ciphertext;
the key travelled separately, sealed to the reader. With S3, reads hand out presigned
S3 URLs instead by default (``COFFRE_S3_PRESIGN``), so this relay serves the file
store and S3 deployments that turn presigning off.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from api.deps import VaultDep
from api.routers.common import problem_responses
from vault.tickets import MAX_TICKET_LENGTH

router = APIRouter(prefix="/v1/content", tags=["content"])

Ticket = Annotated[str, Path(max_length=MAX_TICKET_LENGTH, description="from a read release")]


@router.get(
    "/{ticket}",
    name="read_content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the ciphertext"},
        **problem_responses(400, 404, 422),
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
