"""The patient's export ("download my data"): one archive of what the caller may read,
the patient's access log and the trail's proofs of its entries (``api.export_archive``,
format in ``docs/export.md``).

The archive is built into a temporary file (memory stays flat) and then streamed; the
reads it makes are recorded like any other (``vault.read``). An export reads every
document of a space, so a process builds at most ``export_concurrency`` at once (then
503 with Retry-After), and a caller one at a time (409 ``export-in-progress``): one
person's export, or repeated clicks, cannot take the threads other callers need.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import CurrentActor, FreshViewsDep, VaultDep
from api.export_archive import write_archive
from api.models import ReadCreate
from api.routers.common import PatientId, problem_responses
from domain.values import Actor
from wire.errors import ExportInProgress, Unavailable

router = APIRouter(prefix="/v1")

PIECE = 1024 * 1024
#: exports built at once by a process when the settings do not say (tests' fakes)
EXPORT_CONCURRENCY = 2


class ExportSlots:
    """Exports being built in this process: one per caller, ``total`` in all.

    Claimed without waiting, from the thread pool's threads (hence the lock): a
    caller's second export is a 409 and an export beyond ``total`` a 503 at once,
    rather than a queue of threads each holding a space's worth of reads.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self._callers: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, actor: Actor) -> Iterator[None]:
        """Hold the caller's one export slot for the duration of the block."""
        caller = (actor.role.value, actor.id)
        with self._lock:
            if caller in self._callers:
                raise ExportInProgress("your previous export is still being built")
            if len(self._callers) >= self.total:
                raise Unavailable("the server is building as many exports as it can; retry")
            self._callers.add(caller)
        try:
            yield
        finally:
            with self._lock:
                self._callers.discard(caller)


def export_slots(request: Request) -> ExportSlots:
    """The application's export slots, made on first use."""
    state = request.app.state
    with _MADE:
        if getattr(state, "export_slots", None) is None:
            settings = getattr(state.services, "settings", None)
            state.export_slots = ExportSlots(
                getattr(settings, "export_concurrency", EXPORT_CONCURRENCY)
            )
    return state.export_slots  # type: ignore[no-any-return]


_MADE = threading.Lock()


@router.post(
    "/spaces/{patient_id}/exports",
    name="export_space",
    tags=["exports"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "the export archive"},
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
def export_space(
    patient_id: PatientId,
    body: ReadCreate,
    vault: VaultDep,
    views: FreshViewsDep,
    actor: CurrentActor,
    request: Request,
) -> StreamingResponse:
    """The export of a space for the caller: every document they may read (each read
    recorded, its key sealed to ``reader_key_id``), and for the patient the access log
    with the trail's inclusion proofs, under a manifest of every file's hash."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the streaming generator
    try:
        with export_slots(request).claim(actor):
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
