"""Export jobs: a patient's export (``vault.exports``) built in the background, its
state in the database (table ``export_jobs``, migration 0019), its archive a file in
the data directory (``<data_dir>/exports/<job_id>.zip``), never in memory.

A job is started by a request (which only checks what would fail at once, then answers
202) and built by a worker thread of the same process: at most ``concurrency`` jobs of
a process are queued or running at once (beyond: ``Unavailable``, 503), so a worker is
always free for a job and no request thread ever builds one. One queued or running job
per caller across every process (a partial unique index; a second: ``ExportInProgress``,
409).

A job ends ``done`` (size and SHA-256 of its archive known, kept until ``expires_at``),
``failed`` or ``expired`` (its archive removed at expiry or at its owner's request).
While a process runs jobs it beats their ``heartbeat_at``; a job whose process died
(a crash, a restart) stops beating, and the next sweep by any process (on start, then
at most every ``SWEEP_EVERY``) ends it ``failed`` once it is ``stale_after`` old, and
removes what it left. A worker whose job was ended so (or deleted by its owner) notices
at its next progress and stops, leaving nothing behind.

Only the job's owner sees it: anyone else's question is answered like a job that does
not exist (``UnknownExport``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO
from uuid import UUID, uuid4

import structlog

from domain.values import Actor
from vault.clock import Clock
from vault.export_job_rows import ExportJob, JobDatabase, job_of, measure
from vault.exports import DocumentProgress
from wire.errors import (
    CoffreError,
    ExportInProgress,
    ExportNotReady,
    Unavailable,
    UnknownExport,
)

log = structlog.get_logger(__name__)

#: the states a job goes through; the first two are "active"
QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"
#: at most this often (seconds of the clock) a request sweeps expired and stale jobs
SWEEP_EVERY = 60.0
#: progress is written at most this often (seconds), and always at the first and last
PROGRESS_EVERY = 0.5


#: builds the archive: (patient_id, actor, reader_key_id, out, export_id, progress)
Assemble = Callable[[str, Actor, str, IO[bytes], UUID, DocumentProgress], object]
#: checks an export may start: (patient_id, actor, reader_key_id) -> documents it holds
Check = Callable[[str, Actor, str], int]


class _Abandoned(Exception):
    """The job was ended while its worker ran (by a sweep, or by its owner)."""


class ExportJobs:
    """Starts, runs, shows, serves and removes export jobs (see the module docstring)."""

    def __init__(
        self,
        database: JobDatabase,
        directory: Path,
        clock: Clock,
        *,
        check: Check,
        assemble: Assemble,
        concurrency: int,
        ttl: timedelta,
        stale_after: timedelta,
    ) -> None:
        self.database = database
        self.directory = directory
        self.clock = clock
        self.check = check
        self.assemble = assemble
        self.concurrency = concurrency
        self.ttl = ttl
        self.stale_after = stale_after
        #: this process's name on the jobs it runs (a new one at every start)
        self.runner = uuid4().hex
        self._lock = threading.Lock()
        self._active = 0
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._beating: threading.Thread | None = None
        self._swept_at = float("-inf")
        self.sweep()  # what a previous run of this (or another) process left

    # -- what a request asks -----------------------------------------------------------

    def start(self, patient_id: str, actor: Actor, reader_key_id: str) -> ExportJob:
        """Queue an export of ``patient_id``'s space for ``actor``, sealed to
        ``reader_key_id``; returns the job (queued) at once.

        ``ExportInProgress`` if the caller has a job queued or running,
        ``Unavailable`` if this process runs as many as it may; what the export would
        refuse at once (the space, the device) is raised here, before any job exists.
        """
        self.sweep_if_due()
        owner = {"role": actor.role.value, "id": actor.id}
        if self._active_of(owner):
            raise ExportInProgress("your previous export is still being built")
        total = self.check(patient_id, actor, reader_key_id)
        with self._lock:
            if self._active >= self.concurrency:
                raise Unavailable("the server is building as many exports as it can; retry")
            self._active += 1
        try:
            job_id = self._insert(owner, patient_id, reader_key_id, total)
        except BaseException:
            self._release()
            raise
        try:
            self._workers().submit(self._run, job_id, patient_id, actor, reader_key_id)
        except BaseException:
            # no worker will take it (the process is closing): it must not stay queued
            self._set(job_id, "state = 'failed', error = 'interrupted'", QUEUED)
            self._release()
            raise
        return self.get(job_id, actor)

    def get(self, job_id: UUID, actor: Actor) -> ExportJob:
        """The job ``job_id`` if ``actor`` owns it; ``UnknownExport`` otherwise."""
        self.sweep_if_due()
        with self.database.transaction() as cursor:
            rows = cursor.fetch(
                "SELECT * FROM export_jobs WHERE job_id = %(j)s AND owner_role = %(r)s "
                "AND owner_id = %(o)s",
                {"j": str(job_id), "r": actor.role.value, "o": actor.id},
            )
        if not rows:
            raise UnknownExport("no such export")
        return job_of(rows[0])

    def open_archive(self, job_id: UUID, actor: Actor) -> tuple[ExportJob, BinaryIO]:
        """The job and its archive opened for reading (the caller closes it); the open
        file stays readable even if the archive expires meanwhile."""
        job = self.get(job_id, actor)
        if job.state != DONE:
            raise ExportNotReady(f"this export is {job.state}, its archive is not available")
        try:
            return job, self._path(job.job_id).open("rb")
        except FileNotFoundError:
            raise ExportNotReady("this export's archive was removed") from None

    def delete(self, job_id: UUID, actor: Actor) -> None:
        """End the job at its owner's request: its archive is removed at once (a job
        still running stops, ``failed``; a done one becomes ``expired``)."""
        job = self.get(job_id, actor)
        now = self.clock.now().timestamp()
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE export_jobs SET state = CASE WHEN state = 'done' THEN 'expired' "
                "ELSE 'failed' END, error = CASE WHEN state = 'done' THEN error "
                "ELSE 'cancelled' END, finished_at = COALESCE(finished_at, %(now)s) "
                "WHERE job_id = %(j)s AND state IN ('queued', 'running', 'done')",
                {"j": str(job.job_id), "now": now},
            )
        self._remove(job.job_id)

    # -- housekeeping ------------------------------------------------------------------

    def sweep_if_due(self) -> None:
        """``sweep``, if the last one is ``SWEEP_EVERY`` seconds old."""
        now = self.clock.now().timestamp()
        if now - self._swept_at >= SWEEP_EVERY:
            self.sweep()

    def sweep(self, now: datetime | None = None, *, sole: bool = False) -> int:
        """Remove the archives of jobs past their expiry (``expired``), and end
        ``failed`` the active jobs of other processes that stopped beating; returns how
        many jobs it ended.

        ``sole``: this process is the only one that runs jobs on this database (the
        embedded server, one per data directory): every other process's active job
        died with it, however recently it beat.
        """
        moment = (now or self.clock.now()).timestamp()
        self._swept_at = moment
        stale_at = moment - self.stale_after.total_seconds()
        with self.database.transaction() as cursor:
            expired = cursor.fetch(
                "UPDATE export_jobs SET state = 'expired' WHERE state = 'done' "
                "AND expires_at <= %(now)s RETURNING job_id",
                {"now": moment},
            )
            stale = cursor.fetch(
                "UPDATE export_jobs SET state = 'failed', error = 'interrupted', "
                "finished_at = %(now)s WHERE state IN ('queued', 'running') "
                "AND runner <> %(me)s AND (%(sole)s = 1 OR heartbeat_at <= %(cutoff)s) "
                "RETURNING job_id",
                {"now": moment, "me": self.runner, "sole": int(sole), "cutoff": stale_at},
            )
        for row in [*expired, *stale]:
            self._remove(UUID(str(row["job_id"])))
        self._remove_leftovers()
        if stale:
            log.warning("export_jobs_interrupted", jobs=len(stale))
        return len(expired) + len(stale)

    def _remove_leftovers(self) -> None:
        # Files whose job ended elsewhere (another process swept it) or never existed:
        # each process cleans the directory it writes to.
        if not self.directory.is_dir():
            return
        files: dict[str, list[Path]] = {}
        for path in self.directory.iterdir():
            files.setdefault(path.name.split(".", 1)[0], []).append(path)
        if not files:
            return
        params = {f"j{i}": name for i, name in enumerate(files)}
        marks = ", ".join(f"%(j{i})s" for i in range(len(params)))
        with self.database.transaction() as cursor:
            # only generated placeholders are interpolated; the names are parameters
            kept = cursor.fetch(
                f"SELECT job_id FROM export_jobs WHERE job_id IN ({marks}) "  # noqa: S608
                "AND state IN ('queued', 'running', 'done')",
                params,
            )
        for name in set(files) - {str(row["job_id"]) for row in kept}:
            for path in files[name]:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop beating and let go of the workers (a running job ends with its worker)."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the worker ----------------------------------------------------------------------

    def _run(self, job_id: UUID, patient_id: str, actor: Actor, reader_key_id: str) -> None:
        part = self._path(job_id).with_suffix(".part")
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self._set(job_id, "state = 'running'", QUEUED):
                return
            with part.open("wb") as out:
                self.assemble(patient_id, actor, reader_key_id, out, job_id, self._progress(job_id))
            size, sha256 = measure(part)
            final = self._path(job_id)
            os.replace(part, final)
            now = self.clock.now().timestamp()
            finished = self._set(
                job_id,
                "state = 'done', documents_done = documents_total, size = %(size)s, "
                "sha256 = %(sha)s, finished_at = %(now)s, expires_at = %(until)s",
                RUNNING,
                size=size,
                sha=sha256,
                now=now,
                until=now + self.ttl.total_seconds(),
            )
            if not finished:  # ended meanwhile: nothing of it stays
                raise _Abandoned
        except _Abandoned:
            self._remove(job_id)
        except Exception as error:
            code = error.code if isinstance(error, CoffreError) else "internal"
            # the code only: a message could name a document or a person
            log.error("export_job_failed", job_id=str(job_id), code=code)
            self._set(
                job_id,
                "state = 'failed', error = %(code)s, finished_at = %(now)s",
                RUNNING,
                code=code,
                now=self.clock.now().timestamp(),
            )
            self._remove(job_id)
        finally:
            self._release()

    def _progress(self, job_id: UUID) -> DocumentProgress:
        written = [float("-inf")]

        def progress(done: int, total: int) -> None:
            moment = time.monotonic()
            if done not in (0, total) and moment - written[0] < PROGRESS_EVERY:
                return
            written[0] = moment
            if not self._set(
                job_id, "documents_done = %(done)s, documents_total = %(total)s", RUNNING,
                done=done, total=total,
            ):  # fmt: skip
                raise _Abandoned

        return progress

    def _set(self, job_id: UUID, assignments: str, state: str, **values: Any) -> bool:
        # Only this process's own job, in the state it left it: a sweep or its owner
        # may have ended it meanwhile. ``assignments`` are ours, never input.
        params = {"j": str(job_id), "me": self.runner, "state": state, **values}
        params["beat"] = self.clock.now().timestamp()
        with self.database.transaction() as cursor:
            rows = cursor.fetch(
                f"UPDATE export_jobs SET {assignments}, heartbeat_at = %(beat)s "  # noqa: S608
                "WHERE job_id = %(j)s AND runner = %(me)s AND state = %(state)s "
                "RETURNING job_id",
                params,
            )
        return bool(rows)

    def _insert(self, owner: dict[str, str], patient_id: str, key_id: str, total: int) -> UUID:
        job_id = uuid4()
        now = self.clock.now().timestamp()
        try:
            with self.database.transaction() as cursor:
                cursor.execute(
                    "INSERT INTO export_jobs (job_id, owner_role, owner_id, patient_id, "
                    "reader_key_id, state, documents_total, runner, created_at, heartbeat_at) "
                    "VALUES (%(j)s, %(role)s, %(id)s, %(p)s, %(k)s, 'queued', %(t)s, %(me)s, "
                    "%(now)s, %(now)s)",
                    {
                        "j": str(job_id),
                        **owner,
                        "p": patient_id,
                        "k": key_id,
                        "t": total,
                        "me": self.runner,
                        "now": now,
                    },
                )
        except Exception:
            # the one-active-job index: a concurrent request of the same caller won
            if self._active_of(owner):
                raise ExportInProgress("your previous export is still being built") from None
            raise
        return job_id

    def _active_of(self, owner: dict[str, str]) -> bool:
        with self.database.transaction() as cursor:
            return bool(
                cursor.fetch(
                    "SELECT job_id FROM export_jobs WHERE owner_role = %(role)s "
                    "AND owner_id = %(id)s AND state IN ('queued', 'running')",
                    owner,
                )
            )

    def _workers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="export")
                self._beating = threading.Thread(
                    target=self._beat, name="export-heartbeat", daemon=True
                )
                self._beating.start()
            return self._pool

    def _beat(self) -> None:
        # A long step (one large document, a wait for the views) writes no progress:
        # the heartbeat says the process still runs its jobs, whatever they do.
        every = max(1.0, min(30.0, self.stale_after.total_seconds() / 4))
        while not self._stop.wait(every):
            # a database hiccup: the next beat will do
            with suppress(Exception), self.database.transaction() as cursor:
                cursor.execute(
                    "UPDATE export_jobs SET heartbeat_at = %(now)s WHERE runner = %(me)s "
                    "AND state IN ('queued', 'running')",
                    {"now": self.clock.now().timestamp(), "me": self.runner},
                )

    def _release(self) -> None:
        with self._lock:
            self._active -= 1

    def _path(self, job_id: UUID) -> Path:
        return self.directory / f"{job_id}.zip"

    def _remove(self, job_id: UUID) -> None:
        path = self._path(job_id)
        for name in (path, path.with_suffix(".part")):
            name.unlink(missing_ok=True)
