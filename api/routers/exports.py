"""The patient's export ("download my data"): a job that builds one archive of what the
caller may read, the patient's access log and the trail's proofs of its entries
(``vault.exports``, format in ``docs/export.md``), and the archive's download.

``POST`` starts the job and answers 202 at once (``vault.export_jobs``: a worker thread
of this process builds it; one job per caller, 409 ``export-in-progress``, and at most
``export_concurrency`` per process, 503). The job's state and progress, and its
archive, are its owner's alone: anyone else gets the 404 a missing job gets. The
archive is served from its file with byte ranges (RFC 9110 section 14), so that a
broken download resumes where it stopped; its ETag is its SHA-256.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Annotated
from uuid import UUID

from fastapi import Depends, Header, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import CurrentActor, ServicesDep, require_roles
from api.models import ReadCreate
from api.routers.common import PatientId, Router, problem_responses
from domain.values import Actor
from vault.export_jobs import ExportJob, ExportJobs
from wire.errors import RangeNotSatisfiable, Unavailable, UnknownExport
from wire.values import Role

router = Router(prefix="/v1")

PIECE = 1024 * 1024
JobId = Annotated[UUID, PathParam(description="the export job's id")]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
#: who may ask for an export (coarse; which documents, the vault decides)
ExporterActor = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REPRESENTATIVE))]


class ExportLinks(BaseModel):
    """Where the job is, and its archive once done."""

    self: str
    archive: str | None = None


class ExportProgress(BaseModel):
    """How far the job got: documents read into the archive, of how many."""

    documents_done: int
    documents_total: int


class ExportJobPublic(BaseModel):
    """An export job as its owner sees it."""

    job_id: UUID
    patient_id: str
    state: str = Field(description="queued, running, done, failed or expired")
    progress: ExportProgress
    size: int | None = Field(None, description="the archive's bytes, once done")
    sha256: str | None = Field(None, description="the archive's SHA-256 (its ETag), once done")
    error: str | None = Field(None, description="why it failed: a problem code, or interrupted")
    created_at: datetime
    finished_at: datetime | None = None
    expires_at: datetime | None = Field(None, description="when the archive is removed")
    links: ExportLinks


def _jobs(services: ServicesDep) -> ExportJobs:
    jobs = getattr(services, "exports", None)
    if jobs is None:
        raise Unavailable("this server builds no exports")
    return jobs  # type: ignore[no-any-return]


def _public(job: ExportJob, request: Request) -> ExportJobPublic:
    here = request.app.url_path_for("export_job", patient_id=job.patient_id, job_id=str(job.job_id))
    archive = f"{here}/archive" if job.state == "done" else None
    return ExportJobPublic(
        job_id=job.job_id,
        patient_id=job.patient_id,
        state=job.state,
        progress=ExportProgress(
            documents_done=job.documents_done, documents_total=job.documents_total
        ),
        size=job.size,
        sha256=job.sha256,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        expires_at=job.expires_at,
        links=ExportLinks(self=str(here), archive=archive),
    )


def _owned(jobs: ExportJobs, patient_id: str, job_id: UUID, actor: Actor) -> ExportJob:
    # a job of another space answers like a missing one
    job = jobs.get(job_id, actor)
    if job.patient_id != patient_id:
        raise UnknownExport("no such export")
    return job


@router.post(
    "/spaces/{patient_id}/exports",
    name="export_space",
    tags=["exports"],
    status_code=202,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def export_space(
    patient_id: PatientId,
    body: ReadCreate,
    services: ServicesDep,
    actor: ExporterActor,
    request: Request,
    response: Response,
) -> ExportJobPublic:
    """Start the export of a space for the caller: every document they may read (each
    read recorded, its key sealed to ``reader_key_id``), and for the patient the access
    log with the trail's inclusion proofs, under a manifest of every file's hash. The
    export is recorded in the access log. Answers 202 with the job (``Location``)."""
    job = _jobs(services).start(patient_id, actor, body.reader_key_id)
    public = _public(job, request)
    response.headers["Location"] = public.links.self
    return public


@router.get(
    "/spaces/{patient_id}/exports/{job_id}",
    name="export_job",
    tags=["exports"],
    responses=problem_responses(401, 403, 404),
)
def export_job(
    patient_id: PatientId,
    job_id: JobId,
    services: ServicesDep,
    actor: CurrentActor,
    request: Request,
) -> ExportJobPublic:
    """The caller's export job: its state and progress (documents done of total)."""
    return _public(_owned(_jobs(services), patient_id, job_id, actor), request)


@router.delete(
    "/spaces/{patient_id}/exports/{job_id}",
    name="delete_export",
    tags=["exports"],
    status_code=204,
    responses=problem_responses(401, 403, 404),
)
def delete_export(
    patient_id: PatientId, job_id: JobId, services: ServicesDep, actor: CurrentActor
) -> Response:
    """Remove the caller's export archive now (a job still running stops)."""
    jobs = _jobs(services)
    _owned(jobs, patient_id, job_id, actor)
    jobs.delete(job_id, actor)
    return Response(status_code=204)


@router.get(
    "/spaces/{patient_id}/exports/{job_id}/archive",
    name="export_archive",
    tags=["exports"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "the export archive"},
        206: {"content": {"application/zip": {}}, "description": "one range of it"},
        **problem_responses(401, 403, 404, 409, 416),
    },
)
def export_archive(
    patient_id: PatientId,
    job_id: JobId,
    services: ServicesDep,
    actor: CurrentActor,
    range_: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
) -> StreamingResponse:
    """The archive of a done job; ``Range: bytes=start-end`` (one range) answers 206,
    unless ``If-Range`` names another ETag than the archive's."""
    jobs = _jobs(services)
    _owned(jobs, patient_id, job_id, actor)
    job, file = jobs.open_archive(job_id, actor)
    try:
        size = job.size or 0
        etag = f'"{job.sha256}"'
        wanted = None
        if range_ is not None and (if_range is None or if_range.strip() == etag):
            wanted = _range(range_, size)
    except BaseException:
        file.close()
        raise
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Content-Disposition": f'attachment; filename="coffre-export-{patient_id}.zip"',
    }
    if wanted is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(
            _pieces(file, 0, size), media_type="application/zip", headers=headers
        )
    start, end = wanted
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        _pieces(file, start, end + 1),
        status_code=206,
        media_type="application/zip",
        headers=headers,
    )


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range ``header`` asks of ``size`` bytes (inclusive bounds); None
    to send the whole (a header we do not understand, or several ranges, may be
    ignored: RFC 9110 section 14.2)."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable("the range asks for no bytes", size=size)
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise RangeNotSatisfiable("the range starts beyond the archive's end", size=size)
    return start, end


def _pieces(file: IO[bytes], start: int, stop: int) -> Iterator[bytes]:
    with file:
        file.seek(start)
        left = stop - start
        while left > 0 and (piece := file.read(min(PIECE, left))):
            left -= len(piece)
            yield piece
