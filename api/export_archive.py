"""The patient's export archive ("download my data", ``Patient/$everything``): built
from the use cases that already decide everything, written as a zip (``docs/export.md``).

Nothing here decides who sees what: the documents are those ``vault.documents`` lists
for the caller, each obtained through ``vault.read`` (a recorded read, its data key
resealed to the caller's device), and the access log is the patient's own view
(``vault.authorise_log``, itself recorded), with the trail's inclusion proofs of its
entries against a checkpoint signed now. The archive is streamed into ``out`` (a file),
one document at a time: memory stays flat at any size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol
from uuid import UUID

from api.fhir_models import document_reference
from domain.values import Actor
from projections.access_log import AccessLog
from projections.trail_export import prove_rows
from projections.trail_query import Trail
from projections.trail_store import EntryRow, entry_from_row, fetch_nodes
from vault.service import Vault
from wire.dto import DocumentSummary


class Views(Protocol):
    """The projections the archive reads (``api.deps.FreshViews``)."""

    def access_log(self) -> AccessLog:
        """The access log view, caught up."""
        ...

    def trail(self) -> Trail:
        """The trail, caught up."""
        ...

    def settled(self, *names: str) -> None:
        """Wait until the views ``names`` hold every event stored now."""
        ...


FORMAT = "coffre-export/1"
MANIFEST = "manifest.json"
_LOG_PAGE = 500


def _json_default(value: Any) -> str:
    # dates, instants and UUIDs of the log rows, as text
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, sort_keys=True, default=_json_default) + "\n").encode("utf-8")


class _Writer:
    """A zip being written, remembering the SHA-256 of every member for the manifest."""

    def __init__(self, out: IO[bytes]) -> None:
        import zipfile

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


def write_archive(
    vault: Vault,
    views: Views,
    patient_id: str,
    actor: Actor,
    reader_key_id: str,
    out: IO[bytes],
) -> dict[str, Any]:
    """Write the export of ``patient_id``'s space for ``actor`` into ``out``; returns
    the manifest.

    Documents: what ``actor`` may read, each read recorded (``vault.read``). The access
    log and its proofs only for the patient (``vault.authorise_log`` refuses anyone
    else, and a representative's export simply carries no log).
    """
    writer = _Writer(out)
    listed = vault.documents(patient_id, actor)
    references: list[bytes] = []
    for document in listed:
        release = vault.read(patient_id, document.document_id, actor, reader_key_id)
        _, chunks = vault.open_content(release.content_ticket)
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
        references.append(_line(document_reference(release.document, patient_id, url)))
    writer.write("fhir/DocumentReference.ndjson", references)
    checkpoint: dict[str, Any] | None = None
    if _is_patient(actor, patient_id):
        space_id = vault.authorise_log(patient_id, actor)
        # only now, so that the views hold the reads just recorded
        # the two views the archive holds: a stall elsewhere (notifications) is no reason
        views.settled("access_log", "trail")
        log, trail = views.access_log(), views.trail()
        entry_ids: set[int] = set()
        writer.write("access_log.ndjson", _log_lines(log, space_id, entry_ids))
        signed = trail.checkpoint()
        checkpoint = signed.to_json()
        writer.write("trail/checkpoint.json", [_line(checkpoint)])
        writer.write("trail/entries.ndjson", _proved(trail, entry_ids, signed.size))
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


def _log_lines(log: AccessLog, space_id: UUID, entry_ids: set[int]) -> Iterator[bytes]:
    # newest first, as the log is read; every entry id is kept to pick its trail leaf
    before: int | None = None
    while True:
        page = log.page(space_id, before=before, limit=_LOG_PAGE)
        for row in page.entries:
            entry_ids.add(int(row["entry_id"]))
            yield _line(row)
        if page.next_cursor is None:
            return
        before = page.next_cursor


def _proved(trail: Trail, entry_ids: set[int], size: int) -> Iterator[bytes]:
    # Only the leaves of entries the patient's log shows: the space's trail also holds
    # events the log keeps from its patient (documents held for an announcement), and
    # the log shows the patient's device events, which the trail files by actor.
    ids: dict[int, int] = {}
    kept: list[EntryRow] = []
    wanted = sorted(entry_ids)
    for start in range(0, len(wanted), _LOG_PAGE):
        page = wanted[start : start + _LOG_PAGE]
        params: dict[str, Any] = {f"n{i}": n for i, n in enumerate(page)}
        params["size"] = size
        marks = ", ".join(f"%(n{i})s" for i in range(len(page)))
        # Only generated placeholders are interpolated; the ids are bound parameters.
        rows = trail.store.query(
            "SELECT * FROM trail_entries WHERE leaf_index < %(size)s "  # noqa: S608
            f"AND notification_id IN ({marks})",
            params,
        )
        for r in rows:
            row = entry_from_row(r)
            ids[row.leaf_index] = row.notification_id
            kept.append(row)
    kept.sort(key=lambda row: row.leaf_index)

    def fetch(nodes: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        with trail.store.transaction() as cursor:
            return fetch_nodes(cursor, nodes)

    for leaf_index, text, proof in prove_rows(kept, size, fetch):
        yield _line(
            {
                "entry_id": ids[leaf_index],
                "leaf_index": leaf_index,
                "entry": text,
                "inclusion_proof": [node.hex() for node in proof],
            }
        )
