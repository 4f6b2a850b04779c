"""The patient's export through the SDK (``api.routers.exports``): a job started on the
server, followed until its archive is built, the archive downloaded (resuming a broken
download with ``Range``) and checked against its SHA-256; then verified offline
(``client.export_verify``) and re-imported into a new space.

::

    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:
        coffre.export(ins, "export.zip", progress=print, building=print)
    with CoffreClient(url, depositor_token) as depositor:
        depositor.import_export("export.zip", new_ins, reader=ReaderKey.load(path))

The archive is streamed to its sink as it arrives; to a path it lands only once whole
and checked. Re-importing decrypts each document here and deposits it anew (encrypted
to the new space's key), so the new space holds the very same plaintext bytes.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from collections.abc import Callable
from typing import IO, Any
from uuid import UUID

import httpx

from client.documents import DocumentMethods
from client.export_verify import documents_of, open_document
from client.io import Sink, open_sink, space_path
from client.problems import error_of
from client.readerkey import ReaderKey
from client.shapes import Progress
from wire.errors import CoffreError, IntegrityFailure, Unavailable

__all__ = ["ExportMethods"]

#: ``building(documents_done, documents_total)`` while the server builds the archive
Building = Callable[[int, int], None]
_PIECE = 64 * 1024
#: how many times a broken download is resumed before giving up
RESUMES = 5


class _Received:
    """What a download received so far: its bytes' count and running hash."""

    def __init__(self, digest: Any) -> None:
        self.digest = digest
        self.size = 0


class ExportMethods(DocumentMethods):
    """The export of a space (a job on the server), and its re-import."""

    def export(
        self,
        patient_id: str,
        sink: Sink,
        *,
        progress: Progress | None = None,
        building: Building | None = None,
        poll: float = 0.5,
    ) -> int:
        """Export ``patient_id``'s space for this caller into ``sink`` (every read it
        makes is recorded, and the export itself); returns the archive's size in bytes.

        Starts the job, waits for it (``building(done, total)`` counts documents), then
        downloads the archive (``progress(done, total)`` counts bytes), resuming where a
        broken download stopped, and checks its SHA-256. The document keys are sealed
        to this client's reader key, which must be an approved device.
        """
        job = self.start_export(patient_id)
        job = self.wait_export(patient_id, job["job_id"], building=building, poll=poll)
        return self.download_export(patient_id, job, sink, progress=progress)

    def start_export(self, patient_id: str) -> dict[str, Any]:
        """Start an export job sealed to this client's reader key; returns the job."""
        body = {"reader_key_id": self._reader().key_id}
        job: dict[str, Any] = self._request("POST", f"{space_path(patient_id)}/exports", json=body)
        return job

    def export_job(self, patient_id: str, job_id: str | UUID) -> dict[str, Any]:
        """The state and progress of one of this caller's export jobs."""
        job: dict[str, Any] = self._request("GET", f"{space_path(patient_id)}/exports/{job_id}")
        return job

    def delete_export(self, patient_id: str, job_id: str | UUID) -> None:
        """Remove an export's archive from the server now (a running job stops)."""
        self._request("DELETE", f"{space_path(patient_id)}/exports/{job_id}")

    def wait_export(
        self,
        patient_id: str,
        job_id: str | UUID,
        *,
        building: Building | None = None,
        poll: float = 0.5,
    ) -> dict[str, Any]:
        """Poll the job until it is done; ``Unavailable`` naming why if it failed or
        expired."""
        while True:
            job = self.export_job(patient_id, job_id)
            if building is not None:
                building(job["progress"]["documents_done"], job["progress"]["documents_total"])
            if job["state"] == "done":
                return job
            if job["state"] in ("failed", "expired"):
                raise Unavailable(f"the export {job['state']} ({job.get('error') or 'no reason'})")
            time.sleep(poll)

    def download_export(
        self,
        patient_id: str,
        job: dict[str, Any],
        sink: Sink,
        *,
        progress: Progress | None = None,
    ) -> int:
        """Download a done job's archive into ``sink``, resuming a broken download with
        ``Range`` (``If-Range``: the same archive) up to ``RESUMES`` times; the bytes
        must hash to the job's SHA-256 (``IntegrityFailure`` otherwise)."""
        url = f"{space_path(patient_id)}/exports/{job['job_id']}/archive"
        size, expected = int(job["size"]), str(job["sha256"])
        with open_sink(sink) as out:
            got = _Received(hashlib.sha256())
            if progress:
                progress(0, size)
            for attempt in range(RESUMES + 1):
                time.sleep(0.5 * attempt)  # a moment before resuming, longer each time
                try:
                    self._fetch_from(url, out, got, size, expected, progress)
                    break
                except Unavailable:
                    if attempt == RESUMES:
                        raise
            done = got.size
            if done != size or got.digest.hexdigest() != expected:
                raise IntegrityFailure("the downloaded archive does not match its SHA-256")
        return done

    def _fetch_from(
        self,
        url: str,
        out: IO[bytes],
        got: _Received,
        size: int,
        sha256: str,
        progress: Progress | None,
    ) -> None:
        # One GET from byte ``got.size`` on. A broken body raises Unavailable after what
        # arrived was written and counted (the next attempt resumes there).
        done = got.size
        headers = {"Range": f"bytes={done}-", "If-Range": f'"{sha256}"'} if done else {}
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                if response.is_error:
                    response.read()
                    raise error_of(response)
                if done and response.status_code != 206:
                    raise CoffreError("the server did not resume the download")
                for piece in response.iter_bytes(_PIECE):
                    out.write(piece)
                    got.digest.update(piece)
                    got.size += len(piece)
                    if progress:
                        progress(got.size, size)
        except httpx.RequestError as error:
            raise Unavailable(f"the download broke: {type(error).__name__}") from None
        if got.size != size:
            raise Unavailable(f"the download ended after {got.size} of {size} bytes")

    def import_export(
        self,
        archive: str | os.PathLike[str],
        patient_id: str,
        *,
        reader: ReaderKey | None = None,
    ) -> dict[UUID, UUID]:
        """Deposit every document of an export archive into ``patient_id``'s space
        (RULES.md, closure row 7), as this client (a depositor); returns the new
        document id of each archived one. ``reader`` is the key the archive was sealed
        to (default: this client's).

        Verify the archive first (``client.export_verify.verify_archive``): this only
        checks each document against its recorded hash while decrypting it.
        """
        reader = reader or self._reader()
        created: dict[UUID, UUID] = {}
        with zipfile.ZipFile(archive) as opened:
            for record in documents_of(opened):
                document = record["document"]
                plaintext = b"".join(open_document(opened, record, reader))
                new_id, _ = self.deposit(
                    patient_id,
                    plaintext,
                    type=document["type"],
                    title=document["title"],
                    date=document["date"],
                )
                created[UUID(document["document_id"])] = new_id
        return created
