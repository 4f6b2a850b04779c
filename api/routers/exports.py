"""The patient's export ("download my data"): one archive of what the caller may read,
the patient's access log and the trail's proofs of its entries (``api.export_archive``,
format in ``docs/export.md``).

The archive is built into a temporary file (memory stays flat) and then streamed; the
reads it makes are recorded like any other (``vault.read``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import CurrentActor, FreshViewsDep, VaultDep
from api.export_archive import write_archive
from api.models import ReadCreate
from api.routers.common import PatientId, problem_responses

router = APIRouter(prefix="/v1")

PIECE = 1024 * 1024


@router.post(
    "/spaces/{patient_id}/exports",
    name="export_space",
    tags=["exports"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "the export archive"},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
def export_space(
    patient_id: PatientId,
    body: ReadCreate,
    vault: VaultDep,
    views: FreshViewsDep,
    actor: CurrentActor,
) -> StreamingResponse:
    """The export of a space for the caller: every document they may read (each read
    recorded, its key sealed to ``reader_key_id``), and for the patient the access log
    with the trail's inclusion proofs, under a manifest of every file's hash."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the streaming generator
    try:
        write_archive(vault, views, patient_id, actor, body.reader_key_id, spool)
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    return StreamingResponse(
        _pieces(spool),
        media_type="application/zip",
        headers={
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="coffre-export-{patient_id}.zip"',
        },
    )


def _pieces(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while piece := spool.read(PIECE):
            yield piece
