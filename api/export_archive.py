"""What the export archive carries from the views and in FHIR form: the access log's
pages, the trail's checkpoint and inclusion proofs, and each document's
``DocumentReference`` (``vault.exports.ArchiveSources``, which assembles the archive).

Nothing here decides anything: it reads the projections as ``api.deps.FreshViews``
hands them out (caught up where this process projects) and renders the FHIR resource
the ``/fhir`` routes render.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from api.deps import FreshViews, Services
from api.fhir_models import document_reference
from api.routers.access_log import opened_rows
from projections.trail_export import prove_rows
from projections.trail_store import EntryRow, entry_from_row, fetch_nodes
from wire.dto import DocumentSummary

_LOG_PAGE = 500


class ExportSources:
    """``vault.exports.ArchiveSources`` over a Coffre's projections."""

    def __init__(self, services: Services) -> None:
        self._views = FreshViews(services)
        self._vault = services.vault

    def settled(self, *names: str) -> None:
        """Wait until the views ``names`` hold every event stored now."""
        self._views.settled(*names)

    def log_rows(self, space_id: UUID, patient_id: str) -> Iterator[dict[str, Any]]:
        """The space's access log as its patient reads it (titles and sealed details
        opened, as the access-log route shows them), newest first, by pages."""
        log = self._views.access_log()
        before: int | None = None
        while True:
            page = log.page(space_id, before=before, limit=_LOG_PAGE)
            yield from opened_rows(self._vault, patient_id, page.entries)
            if page.next_cursor is None:
                return
            before = page.next_cursor

    def checkpoint(self) -> tuple[dict[str, Any], int]:
        """A trail checkpoint signed now, and its size."""
        signed = self._views.trail().checkpoint()
        return signed.to_json(), signed.size

    def proved_entries(self, entry_ids: set[int], size: int) -> Iterator[dict[str, Any]]:
        """The trail leaves of the log's entries with their inclusion proofs.

        Only the leaves of entries the patient's log shows: the space's trail also
        holds events the log keeps from its patient (documents held for an
        announcement), and the log shows the patient's device events, which the trail
        files by actor.
        """
        trail = self._views.trail()
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
            yield {
                "entry_id": ids[leaf_index],
                "leaf_index": leaf_index,
                "entry": text,
                "inclusion_proof": [node.hex() for node in proof],
            }

    def document_reference(
        self, document: DocumentSummary, patient_id: str, url: str
    ) -> dict[str, Any]:
        """The document's metadata as the ``/fhir`` routes render it."""
        return document_reference(document, patient_id, url)
