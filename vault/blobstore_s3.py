"""A blob store on S3 (Ceph RGW in tests; MinIO or AWS S3 in production).

With ``vault.blobstore_s3_direct`` (direct uploads), the only module that imports
``minio``. Every call goes through :func:`_translated`, which turns the SDK's and
urllib3's exceptions into the port's, keeping the S3 error code and message but never
the request's headers (the signature) or the credentials.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.error import MinioException, S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, LifecycleConfig, Rule

from vault.blobstore import (
    READ_CHUNK_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    BlobStream,
    check_cutoff,
    check_expiry,
    check_name,
    is_valid_name,
)

MIB = 1024 * 1024
_MISSING_OBJECT = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}


@contextlib.contextmanager
def _translated(action: str, name: str | None = None) -> Iterator[None]:
    """Map S3 and transport failures to BlobNotFound / BlobStoreUnavailable."""
    try:
        yield
    except S3Error as exc:
        if name is not None and exc.code in _MISSING_OBJECT:
            raise BlobNotFound(f"no blob named {name}") from None
        # e.g. SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied, NoSuchBucket
        raise BlobStoreUnavailable(f"S3 {action}: {exc.code}: {exc.message}") from None
    except (MinioException, urllib3.exceptions.HTTPError) as exc:
        # ServerError, InvalidResponseError, MaxRetryError, timeouts, dropped connections
        raise BlobStoreUnavailable(f"S3 {action}: {type(exc).__name__}: {exc}") from None


class _HashingReader:
    """A read()-able view of a chunk iterator that counts and hashes what it hands out.

    ``read(n)`` gathers up to ``n`` bytes before returning: minio asks for a whole part at a
    time and concatenates what it gets, so returning small pieces would cost quadratic copying.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._source = iter(chunks)
        # A view of what is left of the current chunk: slicing it copies nothing. We ask the
        # source for its next chunk only once this one is used up, so a producer that reuses
        # its buffer is safe.
        self._pending = memoryview(b"")
        self._done = False
        self.size = 0
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left if ``n`` < 0); b"" at the end of the stream."""
        pieces: list[memoryview] = []
        wanted = n
        while wanted != 0 and (self._pending or not self._done):
            if not self._pending:
                # The caller's exceptions propagate from here; minio then aborts the upload.
                chunk = next(self._source, None)
                if chunk is None:
                    self._done = True
                    break
                self._pending = memoryview(chunk).cast("B")
                continue
            take = self._pending if wanted < 0 else self._pending[:wanted]
            self._pending = self._pending[len(take) :]
            pieces.append(take)
            if wanted > 0:
                wanted -= len(take)
        data = b"".join(pieces)
        self.size += len(data)
        self.digest.update(data)
        return data


class S3BlobStore(BlobStore):
    """Stores each blob as one object named after it in ``bucket``.

    Call :meth:`ensure_bucket` once at start-up (the constructor does no I/O). ``timeout`` is
    the read timeout in seconds for each request (its connect timeout is at most 5 s);
    failed requests are retried ``retries`` times on 5xx, timeouts and connection errors,
    so an unreachable or stalled endpoint fails a request in about ``(retries + 1) *
    timeout`` seconds (``COFFRE_S3_TIMEOUT``, ``COFFRE_S3_RETRIES``), not minutes.

    ``public_endpoint`` (``host:port``, or ``http(s)://host[:port]`` to choose the scheme)
    is where clients reach S3 when it is not where we do: presigned URLs are signed for
    that address, since SigV4 signs the host. Signing needs no request, but it needs the
    region: ``region``, else ``us-east-1`` (the default of S3, Ceph RGW and MinIO).
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str | None = None,
        # 5 MiB, the S3 minimum: minio holds a part about three times while it signs and
        # sends it, so the part size is what bounds the server's memory per upload (10,000
        # parts still allow 48 GiB, far above the vault's document limit).
        part_size: int = 5 * MIB,
        timeout: float = 10.0,
        retries: int = 2,
        public_endpoint: str | None = None,
    ) -> None:
        if not 5 * MIB <= part_size <= 5 * 1024 * MIB:
            raise ValueError("part_size must be between 5 MiB and 5 GiB (S3 multipart limits)")
        self.bucket = bucket
        self.part_size = part_size
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
            maxsize=10,
            retries=urllib3.Retry(
                total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        # Presigning is local computation; with a public endpoint it uses a client of its
        # own, which must never send a request (it may not even reach that address).
        self._signer = self._client
        if public_endpoint:
            host, public_secure = _endpoint(public_endpoint, secure)
            self._signer = Minio(
                host,
                access_key=access_key,
                secret_key=secret_key,
                secure=public_secure,
                region=region or "us-east-1",
            )

    def ensure_bucket(self) -> None:
        """Creates the bucket if missing, with a rule that removes multipart uploads left
        incomplete for a day (by a crash mid-put) so they don't hold space forever."""
        with _translated("create bucket"):
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    # Another instance may have created it since we looked: that is fine.
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
            rule = Rule(
                ENABLED,
                rule_filter=Filter(prefix=""),
                rule_id="abort-incomplete-uploads",
                abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(1),
            )
            self._client.set_bucket_lifecycle(self.bucket, LifecycleConfig([rule]))

    def allow_browsers(self, origins: Sequence[str]) -> None:
        """Let pages of these origins (``scheme://host[:port]``) send presigned requests
        to the bucket: CORS for GET, HEAD and PUT (a read's ciphertext, a direct
        upload's parts). The origins already allowed are kept, so that several
        deployments (or tests) sharing a bucket do not take each other's away.

        Presigned URLs carry their own authorisation: CORS only lets a browser page
        that already holds one use it, and a page of another origin still cannot.
        """
        with _translated("set bucket CORS"):
            allowed = self._cors_origins()
            wanted = sorted(allowed | set(origins))
            if set(wanted) == allowed:
                return
            rule = "".join(f"<AllowedOrigin>{escape(o)}</AllowedOrigin>" for o in wanted)
            body = (
                '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<CORSRule>{rule}<AllowedMethod>GET</AllowedMethod>"
                "<AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
                "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
                "<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>"
            ).encode()
            # minio has no call for bucket CORS: the S3 request, as its own lifecycle
            # call makes it (Content-MD5 is required for this subresource).
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 - S3 asks
            self._client._execute(
                "PUT",
                self.bucket,
                body=body,
                headers={"Content-MD5": md5},
                query_params={"cors": ""},
            )

    def _cors_origins(self) -> set[str]:
        try:
            answer = self._client._execute("GET", self.bucket, query_params={"cors": ""})
        except S3Error as exc:
            if exc.code == "NoSuchCORSConfiguration":
                return set()
            raise
        root = ElementTree.fromstring(answer.data)  # noqa: S314 - the S3 server's own answer
        return {
            (element.text or "").strip()
            for element in root.iter()
            if element.tag.rsplit("}", 1)[-1] == "AllowedOrigin"
        }

    def put(self, name: str, chunks: Iterable[bytes]) -> BlobInfo:
        """Streams one part at a time: a single PUT up to ``part_size``, multipart above it.

        If ``chunks`` raises, minio aborts the multipart upload and the exception reaches the
        caller unchanged; S3 only shows an object once the upload is completed.
        """
        check_name(name)
        reader = _HashingReader(chunks)
        with _translated("put", name):
            # One upload thread: parallel parts would hold several parts in memory. We ignore
            # the returned ETag: RGW returns an empty one after a multipart upload.
            self._client.put_object(
                self.bucket,
                name,
                reader,  # type: ignore[arg-type]  # duck-typed: minio only calls read()
                length=-1,
                part_size=self.part_size,
                num_parallel_uploads=1,
            )
        return BlobInfo(name=name, size=reader.size, sha256=reader.digest.hexdigest())

    def open(self, name: str) -> BlobStream:
        """GETs the object now (so a missing blob raises here) and streams its body."""
        check_name(name)
        with _translated("get", name):
            response = self._client.get_object(self.bucket, name)

        def pieces() -> Iterator[bytes]:
            with _translated("get", name):
                yield from response.stream(READ_CHUNK_SIZE)

        def release() -> None:
            # Closing before the body is read drops the connection rather than returning a
            # half-read one to the pool.
            response.close()
            response.release_conn()

        return BlobStream(pieces(), release=release)

    def size(self, name: str) -> int:
        """The object's size, from a HEAD request."""
        check_name(name)
        with _translated("stat", name):
            size = self._client.stat_object(self.bucket, name).size
        return int(size or 0)

    def delete(self, name: str) -> None:
        """Deletes the object; S3 answers 204 whether or not it existed."""
        check_name(name)
        with _translated("delete"):
            self._client.remove_object(self.bucket, name)

    def names(self, *, older_than: datetime | None = None) -> Iterator[str]:
        """Object names (last modified before ``older_than``); keys that are not blob names
        are skipped, in case the bucket is shared."""
        cutoff = check_cutoff(older_than)

        def listing() -> Iterator[str]:
            with _translated("list"):
                for obj in self._client.list_objects(self.bucket, recursive=True):
                    name = obj.object_name
                    if not name or obj.is_dir or not is_valid_name(name):
                        continue
                    modified = obj.last_modified
                    if cutoff is None or (modified is not None and modified < cutoff):
                        yield name

        return listing()

    def collect_temporaries(self, older_than: datetime) -> int:
        """Aborts the multipart uploads begun before ``older_than`` and never completed
        (a server killed mid-put); their parts hold space until then. The bucket's
        lifecycle rule does the same after a day where the store supports it; this does
        not depend on it. Uploads under keys that are not blob names are left alone."""
        super().collect_temporaries(older_than)  # checks the cutoff
        aborted = 0
        key_marker: str | None = None
        upload_marker: str | None = None
        while True:
            with _translated("list uploads"):
                # minio has no public call for these two S3 operations
                page = self._client._list_multipart_uploads(
                    self.bucket, key_marker=key_marker, upload_id_marker=upload_marker
                )
            for upload in page.uploads:
                started = upload.initiated_time
                if not is_valid_name(upload.object_name) or upload.upload_id is None:
                    continue
                if started is None or started >= older_than:
                    continue
                with _translated("abort upload"):
                    try:
                        self._client._abort_multipart_upload(
                            self.bucket, upload.object_name, upload.upload_id
                        )
                    except S3Error as exc:
                        # completed or aborted by someone else since we listed
                        if exc.code != "NoSuchUpload":
                            raise
                        continue
                aborted += 1
            if not page.is_truncated or not page.uploads:
                return aborted
            # (minio 7.2 misreads NextUploadIdMarker; the last entry is the same marker)
            key_marker = page.uploads[-1].object_name
            upload_marker = page.uploads[-1].upload_id

    def url_for_get(self, name: str, expires: timedelta) -> str | None:
        """A SigV4 presigned GET URL, valid for ``expires`` (1 s to 7 days)."""
        check_name(name)
        check_expiry(expires)
        with _translated("presign"):
            return self._signer.presigned_get_object(self.bucket, name, expires=expires)


def _endpoint(text: str, secure: bool) -> tuple[str, bool]:
    """``(host[:port], secure)`` of an endpoint given as ``host:port`` or as a URL."""
    if "://" not in text:
        return text, secure
    url = urlsplit(text)
    if url.scheme not in {"http", "https"} or not url.netloc or url.path.strip("/"):
        raise ValueError("an S3 endpoint is host:port or http(s)://host[:port], without a path")
    return url.netloc, url.scheme == "https"
