"""The patient's export archive ("download my data", ``Patient/$everything``): the use
case that assembles it, as a zip in the ``coffre-export/1`` format (``docs/export.md``).

Nothing here decides who sees what: the documents are those ``reads.documents`` lists
for the caller, each obtained through ``reads.read`` (a recorded read, its data key
resealed to the caller's device), and the access log is the patient's own view
(``reads.authorise_log``, itself recorded), with the trail's inclusion proofs of its
entries against a checkpoint signed now. The export itself is one more act in the log
(``Access.Exported``), recorded before the first document is read. The archive is
written into ``out`` (a file), one document at a time: memory stays flat at any size.

The views the archive carries (log pages, trail proofs) and the FHIR form of each
document's metadata come from the layers above, through ``ArchiveSources``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import IO, Any, Protocol
from uuid import UUID

from domain.access import Access
from domain.values import Actor
from vault import reads
from vault.core import VaultCore
from wire.dto import DocumentSummary

FORMAT = "coffre-export/1"
MANIFEST = "manifest.json"

#: ``progress(documents_done, documents_total)``, called after each document
DocumentProgress = Callable[[int, int], None]


class ArchiveSources(Protocol):
    """What the archive carries besides documents (``api.export_archive`` provides it)."""

    def settled(self, *names: str) -> None:
        """Wait until the views ``names`` hold every event stored now."""
        ...

    def log_rows(self, space_id: UUID, patient_id: str) -> Iterator[dict[str, Any]]:
        """The space's access log as the patient reads it (sealed text opened), newest
        first."""
        ...

    def checkpoint(self) -> tuple[dict[str, Any], int]:
        """A trail checkpoint signed now (its JSON form) and its tree size."""
        ...

    def proved_entries(self, entry_ids: set[int], size: int) -> Iterator[dict[str, Any]]:
        """The trail leaves of the log entries ``entry_ids`` with their inclusion
        proofs against the tree of ``size`` leaves."""
        ...

    def document_reference(
        self, document: DocumentSummary, patient_id: str, url: str
    ) -> dict[str, Any]:
        """A document's metadata as a FHIR ``DocumentReference``."""
        ...


def _json_default(value: Any) -> str:
    # dates, instants and UUIDs of the log rows, as text
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, sort_keys=True, default=_json_default) + "\n").encode("utf-8")


class _Writer:
    """A zip being written, remembering the SHA-256 of every member for the manifest."""

    def __init__(self, out: IO[bytes]) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self.hashes: dict[str, str] = {}

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        digest = hashlib.sha256()
        with self.zip.open(name, "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                member.write(chunk)
        self.hashes[name] = digest.hexdigest()

    def close(self) -> None:
        self.zip.close()


def _summary(document: DocumentSummary) -> dict[str, Any]:
    return {
        "document_id": str(document.document_id),
        "type": document.type,
        "title": document.title,
        "date": document.date.isoformat(),
        "version": document.version,
        "size": document.size,
    }


def check_export(core: VaultCore, patient_id: str, actor: Actor, reader_key_id: str) -> int:
    """Whether ``actor`` may have an export of ``patient_id``'s space sealed to
    ``reader_key_id``; returns how many documents it would hold.

    Asked before a job is queued, so that what would fail at once (a space the caller
    may not know, a device not approved) is the request's answer rather than a failed
    job. Nothing is recorded: nothing is read.
    """
    with core.held_space_and_reader(patient_id, actor) as (_, reader):
        base64.b64decode(reader.usable_key(reader_key_id))  # DeviceNotApproved if not
    return len(reads.documents(core, patient_id, actor))


def write_archive(
    core: VaultCore,
    sources: ArchiveSources,
    patient_id: str,
    actor: Actor,
    reader_key_id: str,
    out: IO[bytes],
    *,
    export_id: UUID,
    progress: DocumentProgress | None = None,
) -> dict[str, Any]:
    """Write the export of ``patient_id``'s space for ``actor`` into ``out``; returns
    the manifest.

    The export is recorded first (``Access.Exported``, naming ``export_id``), then the
    documents: what ``actor`` may read, each read recorded (``reads.read``). The access
    log and its proofs only for the patient (``reads.authorise_log`` refuses anyone
    else, and a representative's export simply carries no log).
    """
    writer = _Writer(out)
    try:
        return _write(core, sources, patient_id, actor, reader_key_id, writer, export_id, progress)
    except BaseException:
        # the zip is abandoned with its file: let go of it now, not when collected
        with suppress(Exception):
            writer.close()
        raise


def _write(
    core: VaultCore,
    sources: ArchiveSources,
    patient_id: str,
    actor: Actor,
    reader_key_id: str,
    writer: _Writer,
    export_id: UUID,
    progress: DocumentProgress | None,
) -> dict[str, Any]:
    listed = reads.documents(core, patient_id, actor)
    with core.held_space(patient_id, actor) as space:
        space_id = space.id
    core.commit(Access.record_export(space_id, actor, export_id, len(listed), core.clock.now()))
    if progress is not None:
        progress(0, len(listed))
    references: list[bytes] = []
    for done, document in enumerate(listed, start=1):
        release = reads.read(core, patient_id, document.document_id, actor, reader_key_id)
        _, chunks = reads.open_content(core, release.content_ticket)
        try:
            writer.write(f"documents/{document.document_id}.envelope", chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        key = {
            "document": _summary(release.document),
            "sha256": release.sha256,
            "sealed_key": release.sealed_key,
            "reader_key_id": reader_key_id,
            "access_id": str(release.access_id),
        }
        writer.write(f"documents/{document.document_id}.json", [_line(key)])
        url = f"documents/{document.document_id}.envelope"
        references.append(_line(sources.document_reference(release.document, patient_id, url)))
        if progress is not None:
            progress(done, len(listed))
    writer.write("fhir/DocumentReference.ndjson", references)
    checkpoint: dict[str, Any] | None = None
    if _is_patient(actor, patient_id):
        log_space = reads.authorise_log(core, patient_id, actor)
        # only now, so that the views hold the reads just recorded; the two views the
        # archive holds: a stall elsewhere (notifications) is no reason to fail
        sources.settled("access_log", "trail")
        entry_ids: set[int] = set()
        writer.write("access_log.ndjson", _log_lines(sources, log_space, patient_id, entry_ids))
        checkpoint, size = sources.checkpoint()
        writer.write("trail/checkpoint.json", [_line(checkpoint)])
        writer.write(
            "trail/entries.ndjson", (_line(e) for e in sources.proved_entries(entry_ids, size))
        )
    manifest = {
        "format": FORMAT,
        "patient_id": patient_id,
        "exported_for": {"role": actor.role.value, "id": actor.id},
        "reader_key_id": reader_key_id,
        "documents": len(listed),
        "checkpoint": checkpoint,
        "files": dict(sorted(writer.hashes.items())),
    }
    with writer.zip.open(MANIFEST, "w") as member:
        member.write(_line(manifest))
    writer.close()
    return manifest


def _is_patient(actor: Actor, patient_id: str) -> bool:
    return actor.role.value == "patient" and actor.id == patient_id


def _log_lines(
    sources: ArchiveSources, space_id: UUID, patient_id: str, entry_ids: set[int]
) -> Iterator[bytes]:
    # every entry id is kept to pick its trail leaf
    for row in sources.log_rows(space_id, patient_id):
        entry_ids.add(int(row["entry_id"]))
        yield _line(row)
