"""The export jobs of one process, wired to the vault and to the views the archive
carries (``vault.export_jobs``, ``api.export_archive``)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from api.export_archive import ExportSources
from domain.values import Actor
from vault.export_jobs import ExportJobs
from vault.settings import Settings

if TYPE_CHECKING:
    from coffre.bootstrap import Coffre


def export_jobs(settings: Settings, coffre: Coffre) -> ExportJobs:
    """The export jobs of this process: archives under ``data_dir/exports``, each job's
    views caught up as a request's are (``api.export_archive.ExportSources``)."""
    vault = coffre.vault

    def assemble(
        patient_id: str, actor: Actor, key_id: str, out: IO[bytes], job: UUID, progress: Any
    ) -> object:
        sources = ExportSources(coffre)
        return vault.write_archive(
            sources, patient_id, actor, key_id, out, export_id=job, progress=progress
        )

    return ExportJobs(
        coffre.views,
        settings.data_dir / "exports",
        vault.clock,
        check=vault.check_export,
        assemble=assemble,
        concurrency=settings.export_concurrency,
        ttl=settings.export_ttl,
        stale_after=settings.export_stale_after,
    )
