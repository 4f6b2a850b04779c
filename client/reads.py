"""Reads through the SDK: the reader key a client registers, the documents a caller may
read, and a read, decrypted here (``api.routers.reads``, ``vault.reads``).

::

    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:
        coffre.read(ins, document_id, "copie.pdf")

``read`` unseals the released key with the reader's secret key, fetches the ciphertext
(straight from S3 by presigned URL when the server gives one, else through the API),
checks its SHA-256 while streaming it and decrypts it as a stream (the download and its
hashing a bounded read ahead of the decryption, ``client.readahead``). Memory stays flat
at any size.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import IO
from uuid import UUID

import httpx

from client.download import DownloadFailed
from client.io import Sink, blob_store_error, document_path, open_sink, space_path
from client.problems import error_of_answer, origin_of
from client.readahead import ReadAhead
from client.shapes import Meter, Progress, b64decode, parse_summary
from client.transport import Transport
from wire.dto import DocumentPage, DocumentSummary
from wire.envelope import DataKey, decrypt
from wire.errors import IntegrityFailure, Unavailable

__all__ = ["ReadMethods"]

#: ciphertext read ahead of the decryption at most
AHEAD = 1024 * 1024
#: documents asked per page when listing a whole space (the server's most)
PAGE = 500


class ReadMethods(Transport):
    """Calls that read a space: the reader key, the list, a read."""

    def documents(self, patient_id: str) -> list[DocumentSummary]:
        """The documents of a space this caller may read, in deposit order: every page
        of the listing (``documents_page``), fetched in turn."""
        listed: list[DocumentSummary] = []
        after: UUID | None = None
        seen: set[UUID] = set()
        while True:
            page = self.documents_page(patient_id, after=after, limit=PAGE)
            listed.extend(page.documents)
            if page.next_cursor is None:
                return listed
            if page.next_cursor in seen:  # a server that would page in a circle
                raise Unavailable("the server's listing does not advance")
            seen.add(page.next_cursor)
            after = page.next_cursor

    def documents_page(
        self, patient_id: str, *, after: UUID | str | None = None, limit: int | None = None
    ) -> DocumentPage:
        """One page of the documents of a space this caller may read: those deposited
        after the document ``after`` (from the first when None), at most ``limit`` (the
        server's default when None). Pass its ``next_cursor`` as the next ``after``."""
        params: dict[str, str | int] = {}
        if after is not None:
            params["after"] = str(after)
        if limit is not None:
            params["limit"] = limit
        answer = self._request("GET", f"{space_path(patient_id)}/documents", params=params)
        cursor = answer.get("next_cursor")  # absent from servers that did not page
        return DocumentPage(
            documents=[parse_summary(item) for item in answer["documents"]],
            next_cursor=UUID(cursor) if cursor is not None else None,
        )

    def read(
        self,
        patient_id: str,
        document_id: UUID | str,
        sink: Sink,
        *,
        progress: Progress | None = None,
    ) -> DocumentSummary:
        """Read a document (recorded in the patient's access log) and decrypt it into
        ``sink``; returns its summary.

        With a path, the plaintext goes to a temporary file in the same directory that
        is renamed into place only once the whole ciphertext verified: a tampered or
        truncated document never lands. With a file object, verified chunks are written
        as they come; on error the caller must discard what was written.
        """
        reader = self._reader()
        url = f"{document_path(patient_id, document_id)}/reads"
        # The sink opens first: an unwritable target must fail before a read is recorded.
        with open_sink(sink) as out:
            release = self._request("POST", url, json={"reader_key_id": reader.key_id})
            data_key = reader.unseal(b64decode(release["sealed_key"], "sealed_key"))
            # the same link at the blob store's other endpoints (newer servers, S3 with
            # several gateways): tried in order when one cannot be reached
            urls = [release["content_url"], *release.get("content_alternates", ())]
            self._fetch(urls, release["sha256"], data_key, out, progress)
        return parse_summary(release["document"])

    def _fetch(
        self,
        urls: list[str],
        sha256: str,
        key: DataKey,
        out: IO[bytes],
        progress: Progress | None,
    ) -> None:
        # A presigned S3 URL (the default with S3) goes straight to the blob store; the
        # API's own /v1/content/<ticket> route is the fallback. Either way the bytes are
        # checked against the recorded hash before the last record is released. An
        # endpoint that gives no answer or a 5xx before the first byte is written gets
        # the next URL; once bytes were written to ``out``, a failure is final.
        for index, url in enumerate(urls):
            if self._fetch_one(url, sha256, key, out, progress, last=index == len(urls) - 1):
                return

    def _fetch_one(
        self,
        url: str,
        sha256: str,
        key: DataKey,
        out: IO[bytes],
        progress: Progress | None,
        *,
        last: bool,
    ) -> bool:
        # True when done; False when this endpoint failed before anything was written
        from_api = self._is_api(url)
        answered = False
        try:
            with self._downloads.open(url, api=from_api) as response:
                if response.status >= 400:
                    body = response.error_body()
                    if from_api:
                        raise error_of_answer(response.status, body)
                    if response.status >= 500 and not last:
                        return False
                    raise blob_store_error(response.status, body)
                answered = True
                meter = Meter(progress, response.length)

                # the network and SHA-256 in a thread of their own, decryption here
                depth = max(1, AHEAD // response.piece)
                with ReadAhead(response.body(), meter.hash, depth=depth) as ahead:

                    def verified() -> Iterator[bytes]:
                        yield from meter.count(ahead)
                        # decrypt() releases the final record only after this check
                        if not hmac.compare_digest(meter.hexdigest(), str(sha256)):
                            raise IntegrityFailure(
                                "the ciphertext does not match its recorded hash"
                            )

                    for plaintext in decrypt(verified(), key):
                        out.write(plaintext)
        except DownloadFailed as error:
            if not answered and not last:
                return False
            # never echo the URL: it carries the content ticket or the S3 signature
            raise Unavailable(f"the download failed: {error.cause_name}") from None
        return True

    def _is_api(self, url: str) -> bool:
        target = httpx.URL(url)
        return target.is_relative_url or origin_of(target) == origin_of(self._http.base_url)
