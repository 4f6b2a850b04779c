"""Direct uploads to S3: presigned multipart uploads that clients send straight to the
bucket, so a deposit's bytes never pass through the API (``vault.uploads``).

Beside ``vault.blobstore_s3`` (the other module that imports ``minio``), over the same
client and errors. The composition root attaches one to the store (``S3BlobStore.direct``)
when ``COFFRE_S3_DIRECT_UPLOADS`` is on. minio has no public call for the multipart
operations, so this uses its internal ones (``_create_multipart_upload``,
``_list_parts``...), pinned with the library's version in pyproject.toml and exercised
against Ceph RGW by the tests.
"""

from __future__ import annotations

import re
from datetime import timedelta

from minio import Minio
from minio.datatypes import ListPartsResult, Part
from minio.error import S3Error

from vault.blobstore import DirectUploads, UploadedPart, check_expiry, check_name
from vault.blobstore_s3 import S3BlobStore
from vault.blobstore_s3_failover import translated

MIB = 1024 * 1024

#: default size of every part but the last: large enough that a 4 GiB document needs
#: 256 part URLs, small enough that a failed part costs little to send again
DIRECT_PART_SIZE = 16 * MIB

# What S3 answers for an upload that is no more (RGW says NoSuchKey once it completed).
_NO_UPLOAD = {"NoSuchUpload", "NoSuchKey"}

# "bytes 0-6/12345": the object's whole size after the slash
_RANGE_TOTAL = re.compile(r"/(\d+)\s*$")

# ListParts answers at most 1,000 parts a page: an upload stays within one page.
_MAX_PARTS = 1000


class S3DirectUploads(DirectUploads):
    """Presigned multipart uploads into the bucket of ``store``."""

    def __init__(self, store: S3BlobStore, part_size: int = DIRECT_PART_SIZE) -> None:
        if not 5 * MIB <= part_size <= 5 * 1024 * MIB:
            raise ValueError("part_size must be between 5 MiB and 5 GiB (S3 multipart limits)")
        self._store = store
        self.part_size = part_size
        self.max_parts = _MAX_PARTS

    def start(self, name: str) -> str:
        """CreateMultipartUpload under ``name``."""
        check_name(name)
        bucket = self._store.bucket
        return self._store._run(
            "start upload",
            name,
            lambda client: client._create_multipart_upload(bucket, name, {}),
        )

    def part_url(self, name: str, upload_id: str, number: int, expires: timedelta) -> str:
        """A SigV4 presigned UploadPart URL (signed locally, for the public endpoint)."""
        check_name(name)
        check_expiry(expires)
        return self._presign(self._store._signer, name, upload_id, number, expires)

    def alternate_part_urls(
        self, name: str, upload_id: str, number: int, expires: timedelta
    ) -> tuple[str, ...]:
        """The part's URL signed for each other endpoint (the upload is the bucket's,
        not one gateway's: any endpoint of the zone takes its parts)."""
        check_name(name)
        check_expiry(expires)
        signers = self._store._signers
        return tuple(
            self._presign(signers[index], name, upload_id, number, expires)
            for index in self._store._failover.order()[1:]
        )

    def _presign(
        self, signer: Minio, name: str, upload_id: str, number: int, expires: timedelta
    ) -> str:
        with translated("presign part"):
            return signer.get_presigned_url(
                "PUT",
                self._store.bucket,
                name,
                expires=expires,
                extra_query_params={"uploadId": upload_id, "partNumber": str(number)},
            )

    def parts(self, name: str, upload_id: str) -> list[UploadedPart] | None:
        """ListParts, every page; None on NoSuchUpload."""
        check_name(name)
        found: list[UploadedPart] = []
        marker: str | None = None
        while True:
            page = self._store._run(
                "list parts",
                None,
                lambda client, after=marker: self._list_parts(client, name, upload_id, after),
            )
            if page is None:
                return None
            found += [UploadedPart(p.part_number, int(p.size or 0), p.etag) for p in page.parts]
            if not page.is_truncated or not page.parts or len(found) > self.max_parts:
                return found
            marker = str(page.parts[-1].part_number)

    def _list_parts(
        self, client: Minio, name: str, upload_id: str, marker: str | None
    ) -> ListPartsResult | None:
        try:
            return client._list_parts(
                self._store.bucket,
                name,
                upload_id,
                max_parts=_MAX_PARTS,
                part_number_marker=marker,
            )
        except S3Error as exc:
            if exc.code in _NO_UPLOAD:
                return None
            raise

    def complete(self, name: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """CompleteMultipartUpload with the ETags S3 listed.

        Sent again at another endpoint when one fails (no answer, 5xx): the first may
        have completed it before failing, and then the next answers that there is no
        such upload. That answer is taken as done only after such a failure; the vault
        then reads the object back (:meth:`head`) before recording anything.
        """
        check_name(name)
        listed = [Part(part_number=part.number, etag=part.etag) for part in parts]
        attempts = 0

        def complete(client: Minio) -> None:
            nonlocal attempts
            attempts += 1
            try:
                client._complete_multipart_upload(self._store.bucket, name, upload_id, listed)
            except S3Error as exc:
                if attempts > 1 and exc.code in _NO_UPLOAD:
                    return
                raise

        self._store._run("complete upload", name, complete)

    def abort(self, name: str, upload_id: str) -> None:
        """AbortMultipartUpload; NoSuchUpload (done already) is fine."""
        check_name(name)
        self._store._abort(name, upload_id)

    def head(self, name: str, length: int) -> tuple[bytes, int]:
        """A ranged GET of the first ``length`` bytes; the size is the total its
        ``Content-Range`` names (one request, where a HEAD would be a second)."""
        check_name(name)
        bucket = self._store.bucket
        response = self._store._run(
            "get", name, lambda client: client.get_object(bucket, name, 0, length)
        )
        with translated("get", name):
            try:
                first = bytes(response.read(length))
                whole = _RANGE_TOTAL.search(response.headers.get("Content-Range") or "")
            finally:
                response.close()
                response.release_conn()
        # No Content-Range: the store sent the whole object, so it is what we read.
        return first, int(whole.group(1)) if whole else len(first)
