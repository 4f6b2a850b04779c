"""The patient's export through the SDK (``api.routers.exports``): download the archive,
verify it offline (``client.export_verify``), re-import it into a new space.

::

    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:
        coffre.export(ins, "export.zip", progress=print)
    with CoffreClient(url, depositor_token) as depositor:
        depositor.import_export("export.zip", new_ins, reader=ReaderKey.load(path))

The archive is streamed to its sink as it arrives; to a path it lands only once whole.
Re-importing decrypts each document here and deposits it anew (encrypted to the new
space's key), so the new space holds the very same plaintext bytes.
"""

from __future__ import annotations

import os
import zipfile
from uuid import UUID

from client.documents import DocumentMethods
from client.export_verify import documents_of, open_document
from client.io import Sink, open_sink, space_path
from client.readerkey import ReaderKey
from client.shapes import Progress

__all__ = ["ExportMethods"]


class ExportMethods(DocumentMethods):
    """The export of a space, and its re-import."""

    def export(self, patient_id: str, sink: Sink, *, progress: Progress | None = None) -> int:
        """Download the export of ``patient_id``'s space for this caller into ``sink``
        (every read it makes is recorded); returns its size in bytes.

        ``progress(done, total or None)`` counts bytes. The document keys are sealed to
        this client's reader key, which must be an approved device.
        """
        reader = self._reader()
        body = {"reader_key_id": reader.key_id}
        with open_sink(sink) as out:
            url = f"{space_path(patient_id)}/exports"
            return self._stream_to("POST", url, out, progress, json=body)

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
