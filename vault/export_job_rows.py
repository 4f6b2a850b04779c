"""The rows of table ``export_jobs`` (migration 0019) as ``vault.export_jobs`` reads
them, the database it needs, and how an archive file is measured."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from uuid import UUID

_PIECE = 1024 * 1024


class JobCursor(Protocol):
    """A transaction's cursor (``projections.store.ViewCursor`` is one)."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement (``%(name)s`` parameters)."""
        ...

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query; its rows as dicts."""
        ...


class JobDatabase(Protocol):
    """The database the jobs live in (``projections.store.ViewStore`` is one)."""

    def transaction(self) -> AbstractContextManager[JobCursor]:
        """A transaction committed on success, rolled back on error."""
        ...


@dataclass(frozen=True)
class ExportJob:
    """One export job as its owner sees it."""

    job_id: UUID
    owner_role: str
    owner_id: str
    patient_id: str
    state: str
    documents_done: int
    documents_total: int
    size: int | None
    sha256: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None


def _instant(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def job_of(row: dict[str, Any]) -> ExportJob:
    """An ``export_jobs`` row as an ``ExportJob``."""
    return ExportJob(
        job_id=UUID(str(row["job_id"])),
        owner_role=row["owner_role"],
        owner_id=row["owner_id"],
        patient_id=row["patient_id"],
        state=row["state"],
        documents_done=int(row["documents_done"]),
        documents_total=int(row["documents_total"]),
        size=None if row["size"] is None else int(row["size"]),
        sha256=row["sha256"],
        error=row["error"],
        created_at=_instant(row["created_at"]),  # type: ignore[arg-type]
        finished_at=_instant(row["finished_at"]),
        expires_at=_instant(row["expires_at"]),
    )


def measure(path: Path) -> tuple[int, str]:
    """The size and SHA-256 (hex) of the file at ``path``."""
    # Read back once written: the zip writer seeks back over its headers, so the bytes
    # cannot be hashed as they are written.
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        for piece in _pieces(file):
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


def _pieces(file: BinaryIO) -> Iterator[bytes]:
    while piece := file.read(_PIECE):
        yield piece
