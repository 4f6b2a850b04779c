"""A blob store on S3 (Ceph RGW in tests; MinIO or AWS S3 in production).

With ``vault.blobstore_s3_direct`` (direct uploads), ``vault.blobstore_s3_failover``
(endpoints, errors) and ``vault.blobstore_s3_presign`` (presigned GETs), the only modules
that import ``minio``. Every call goes through ``blobstore_s3_failover.translated``, which
turns the SDK's and urllib3's exceptions into the port's, keeping the S3 error code and
message but never the request's headers (the signature) or the credentials.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TypeVar
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.datatypes import Part
from minio.error import S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, LifecycleConfig, Rule

from vault.blobstore import (
    READ_CHUNK_SIZE,
    BlobInfo,
    BlobStore,
    BlobStream,
    check_cutoff,
    check_expiry,
    check_name,
    is_valid_name,
)
from vault.blobstore_s3_failover import (
    Failover,
    parse_endpoint,
    split_endpoints,
    translated,
)
from vault.blobstore_s3_http import pool_manager
from vault.blobstore_s3_presign import GetPresigners
from vault.blobstore_s3_streams import HashingReader

MIB = 1024 * 1024
T = TypeVar("T")


class S3BlobStore(BlobStore):
    """Stores each blob as one object named after it in ``bucket``.

    Call :meth:`ensure_bucket` once at start-up (the constructor does no I/O). ``timeout`` is
    the read timeout in seconds for each request (its connect timeout is at most 5 s);
    failed requests are retried ``retries`` times on 5xx, timeouts and connection errors,
    so an unreachable or stalled endpoint fails a request in about ``(retries + 1) *
    timeout`` seconds (``COFFRE_S3_TIMEOUT``, ``COFFRE_S3_RETRIES``), not minutes.

    ``endpoint`` may list several endpoints of the same bucket, comma-separated (two RGW
    instances of one zone): a request that gets no answer or a 5xx from one is sent to the
    next (``vault.blobstore_s3_failover``).

    ``public_endpoint`` (``host:port``, or ``http(s)://host[:port]`` to choose the scheme;
    as many, comma-separated, as ``endpoint`` lists) is where clients reach S3 when it is
    not where we do: presigned URLs are signed for that address, since SigV4 signs the
    host; with several endpoints, one URL per endpoint (:meth:`alternate_urls_for_get`).
    Signing needs the region: with several endpoints or a public one, ``region``, else
    ``us-east-1`` (the default of S3, Ceph RGW and MinIO), and no request is sent; with one
    endpoint and no ``region``, minio asks the server for the bucket's region on the first
    presign (``vault.blobstore_s3_presign``).
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
        endpoints = [parse_endpoint(text, secure) for text in split_endpoints(endpoint)]
        several = len(endpoints) > 1
        # answers acknowledged at once: RGW's come ~40 ms late otherwise (see the module)
        http = pool_manager(
            # With another endpoint to turn to, a refused connection is not worth waiting
            # for: one quick retry, then the next endpoint.
            timeout=urllib3.Timeout(connect=min(timeout, 2.0 if several else 5.0), read=timeout),
            maxsize=10,
            retries=urllib3.Retry(
                total=retries,
                connect=1 if several else None,
                backoff_factor=0.2,
                status_forcelist=[500, 502, 503, 504],
            ),
        )
        clients = [
            Minio(
                host,
                access_key=access_key,
                secret_key=secret_key,
                secure=is_secure,
                region=region,
                http_client=http,
            )
            for host, is_secure in endpoints
        ]
        self._failover = Failover(clients)
        self._client = clients[0]
        # Presigning is local computation; with a public endpoint (or several endpoints)
        # it uses clients of its own, which must never send a request (they may not even
        # reach that address, nor ask a dead gateway for the region).
        self._signers = clients
        if public_endpoint or several:
            public = split_endpoints(public_endpoint) if public_endpoint else None
            if public is not None and len(public) != len(endpoints):
                raise ValueError("list as many public S3 endpoints as S3 endpoints")
            hosts = [parse_endpoint(text, secure) for text in public] if public else endpoints
            self._signers = [
                Minio(
                    host,
                    access_key=access_key,
                    secret_key=secret_key,
                    secure=is_secure,
                    region=region or "us-east-1",
                )
                for host, is_secure in hosts
            ]
        # a read's GET, signed without minio (vault.blobstore_s3_presign)
        self._presigners = GetPresigners(self._signers, bucket, access_key, secret_key)

    @property
    def _signer(self) -> Minio:
        # the preferred endpoint's: a gateway known to be down is not handed out first
        return self._signers[self._failover.preferred]

    def _run(self, action: str, name: str | None, request: Callable[[Minio], T]) -> T:
        """``request(client)`` at one endpoint after the other (see ``Failover``), its
        errors translated."""

        def attempt(client: Minio) -> T:
            with translated(action, name):
                return request(client)

        return self._failover.run(action, attempt)

    def ensure_bucket(self) -> None:
        """Creates the bucket if missing, with a rule that removes multipart uploads left
        incomplete for a day (by a crash mid-put) so they don't hold space forever."""

        def ensure(client: Minio) -> None:
            if not client.bucket_exists(self.bucket):
                try:
                    client.make_bucket(self.bucket)
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
            client.set_bucket_lifecycle(self.bucket, LifecycleConfig([rule]))

        self._run("create bucket", None, ensure)

    def allow_browsers(self, origins: Sequence[str]) -> None:
        """Let pages of these origins (``scheme://host[:port]``) send presigned requests
        to the bucket: CORS for GET, HEAD and PUT (a read's ciphertext, a direct
        upload's parts). The origins already allowed are kept, so that several
        deployments (or tests) sharing a bucket do not take each other's away.

        Presigned URLs carry their own authorisation: CORS only lets a browser page
        that already holds one use it, and a page of another origin still cannot.
        """

        def allow(client: Minio) -> None:
            allowed = self._cors_origins(client)
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
            client._execute(
                "PUT",
                self.bucket,
                body=body,
                headers={"Content-MD5": md5},
                query_params={"cors": ""},
            )

        self._run("set bucket CORS", None, allow)

    def _cors_origins(self, client: Minio) -> set[str]:
        try:
            answer = client._execute("GET", self.bucket, query_params={"cors": ""})
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

        One part is held at a time (``part_size`` bytes, once: minio's own streaming put
        copies each part three times, ~15 MiB of peak per upload at 5 MiB parts, row 11
        of the bench). Each request goes to one endpoint after the other while they fail
        (the part is held, so it can be sent again); if ``chunks`` raises or every
        endpoint fails, the multipart upload is aborted (best effort: the collector and
        the bucket's lifecycle rule remove what is left) and the exception reaches the
        caller unchanged. S3 only shows an object once its upload is completed.
        """
        check_name(name)
        reader = HashingReader(chunks)
        part = reader.read(self.part_size)
        headers = {"Content-Type": "application/octet-stream"}
        if len(part) < self.part_size:
            # the whole object in one request
            self._run(
                "put", name, lambda client: client._put_object(self.bucket, name, part, headers)
            )
            return BlobInfo(name=name, size=reader.size, sha256=reader.digest.hexdigest())
        upload_id = self._run(
            "put",
            name,
            lambda client: client._create_multipart_upload(self.bucket, name, dict(headers)),
        )
        try:
            parts: list[Part] = []
            while part:
                number = len(parts) + 1
                etag = self._run(
                    "put",
                    name,
                    lambda client, data=part, n=number: client._upload_part(
                        self.bucket, name, data, None, upload_id, n
                    ),
                )
                parts.append(Part(number, etag))
                part = b""  # let go of the part sent before gathering the next
                part = reader.read(self.part_size)
            self._run(
                "put",
                name,
                lambda client: client._complete_multipart_upload(
                    self.bucket, name, upload_id, parts
                ),
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self._abort(name, upload_id)
            raise
        return BlobInfo(name=name, size=reader.size, sha256=reader.digest.hexdigest())

    def open(self, name: str) -> BlobStream:
        """GETs the object now (so a missing blob raises here) and streams its body."""
        check_name(name)
        response = self._run("get", name, lambda client: client.get_object(self.bucket, name))

        def pieces() -> Iterator[bytes]:
            with translated("get", name):
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
        stat = self._run("stat", name, lambda client: client.stat_object(self.bucket, name))
        return int(stat.size or 0)

    def delete(self, name: str) -> None:
        """Deletes the object; S3 answers 204 whether or not it existed."""
        check_name(name)
        self._run("delete", None, lambda client: client.remove_object(self.bucket, name))

    def names(self, *, older_than: datetime | None = None) -> Iterator[str]:
        """Object names (last modified before ``older_than``); keys that are not blob names
        are skipped, in case the bucket is shared."""
        cutoff = check_cutoff(older_than)

        def listing() -> Iterator[str]:
            # a listing is lazy, page by page: it stays with one endpoint (the collector
            # that asked for it runs again later if that one fails)
            client = self._failover.clients[self._failover.preferred]
            with translated("list"):
                for obj in client.list_objects(self.bucket, recursive=True):
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
            # minio has no public call for these two S3 operations
            page = self._run(
                "list uploads",
                None,
                lambda client, key=key_marker, upload=upload_marker: client._list_multipart_uploads(
                    self.bucket, key_marker=key, upload_id_marker=upload
                ),
            )
            for upload in page.uploads:
                started = upload.initiated_time
                if not is_valid_name(upload.object_name) or upload.upload_id is None:
                    continue
                if started is None or started >= older_than:
                    continue
                if self._abort(upload.object_name, upload.upload_id):
                    aborted += 1
            if not page.is_truncated or not page.uploads:
                return aborted
            # (minio 7.2 misreads NextUploadIdMarker; the last entry is the same marker)
            key_marker = page.uploads[-1].object_name
            upload_marker = page.uploads[-1].upload_id

    def _abort(self, name: str, upload_id: str) -> bool:
        """AbortMultipartUpload; False when it was completed or aborted already."""

        def abort(client: Minio) -> bool:
            try:
                client._abort_multipart_upload(self.bucket, name, upload_id)
            except S3Error as exc:
                # completed or aborted by someone else since we listed
                if exc.code not in {"NoSuchUpload", "NoSuchKey"}:
                    raise
                return False
            return True

        return self._run("abort upload", None, abort)

    def url_for_get(self, name: str, expires: timedelta) -> str | None:
        """A SigV4 presigned GET URL, valid for ``expires`` (1 s to 7 days), for the
        preferred endpoint (the same URL minio would presign, made faster)."""
        check_name(name)
        check_expiry(expires)
        with translated("presign"):
            return self._presigners.url(self._failover.preferred, name, expires)

    def alternate_urls_for_get(self, name: str, expires: timedelta) -> tuple[str, ...]:
        """The same GET presigned for each other endpoint, in the order to try them."""
        check_name(name)
        check_expiry(expires)
        with translated("presign"):
            return tuple(
                self._presigners.url(index, name, expires) for index in self._failover.order()[1:]
            )
