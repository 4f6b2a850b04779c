"""Presigned GET URLs, signed here instead of by ``minio`` for each read.

Every recorded read hands out a presigned GET of its ciphertext (``vault.reads``). minio's
``presigned_get_object`` cost 37-46 µs of the read's Python for it on the bench machine
(more under load): it rebuilds the URL through ``urllib.parse``, checks the names again
and derives the SigV4 signing key (four HMACs) on every call; :meth:`GetPresigner.url`
takes 11-18 µs (2026-12-04, 20,000 calls against 2,000). What changes from one
read to the next is only the object, the instant and the lifetime, so the rest is
prepared once, from one URL that minio itself presigned (the *sample*):

* the URL's origin, the bucket's part of the path and the signed ``host`` header are
  read off the sample, so path-style or virtual-host style stays minio's choice, as for
  every other request;
* so is the region, from the sample's ``X-Amz-Credential``: a ``Minio`` built without a
  region asks the server for the bucket's region when it presigns the sample (and only
  then, as minio caches it), exactly as it would have for the first read;
* the signing key is derived once per UTC day (it depends on the date, the region and
  the secret only).

The URL is the same, byte for byte, as minio's for the same object, instant and
lifetime (AWS Signature Version 4, query-string authentication, ``UNSIGNED-PAYLOAD``):
the constructor checks it on its sample, and ``tests/blobstore`` compares them over
many objects, lifetimes, instants, endpoints and keys. Object names are the vault's blob
names (32 to 64 lowercase hex characters, ``vault.blobstore.check_name``), which need
no encoding.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

from minio import Minio

__all__ = ["GetPresigner", "GetPresigners"]

#: the object and instant of the sample URL the constructor reads its parts off
_SAMPLE_NAME = "0" * 32
_SAMPLE_DATE = datetime(2000, 1, 1, tzinfo=UTC)
_ALGORITHM = "AWS4-HMAC-SHA256"
_CREDENTIAL = "X-Amz-Credential="


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _region_of(query: str) -> str:
    """The region of a presigned URL's query: its credential is
    ``<access key>/<yyyymmdd>/<region>/s3/aws4_request``, URL-encoded (the access key
    may hold ``/``, hence counting from the right)."""
    for pair in query.split("&"):
        if pair.startswith(_CREDENTIAL):
            parts = unquote(pair[len(_CREDENTIAL) :]).rsplit("/", 4)
            if len(parts) == 5 and parts[3:] == ["s3", "aws4_request"] and parts[2]:
                return parts[2]
            break
    raise ValueError("unexpected presigned URL shape")


class GetPresigner:
    """Presigns GETs of one bucket's objects at one endpoint, as ``signer`` would.

    Building it asks ``signer`` for one presigned URL: if ``signer`` was built without
    a region, minio may send a request for it then (its errors are minio's; the caller
    translates them). ``access_key`` and ``secret_key`` must be ``signer``'s: the
    constructor checks that its own URL for the sample is minio's, else raises
    ``ValueError``.
    """

    def __init__(self, signer: Minio, bucket: str, access_key: str, secret_key: str) -> None:
        sample = signer.presigned_get_object(
            bucket, _SAMPLE_NAME, expires=timedelta(seconds=1), request_date=_SAMPLE_DATE
        )
        parts = urlsplit(sample)
        if not parts.path.endswith("/" + _SAMPLE_NAME):
            raise ValueError("unexpected presigned URL shape")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix = parts.path[: -len(_SAMPLE_NAME)]  # "/<bucket>/" or "/"
        self._host = parts.netloc
        self._region = _region_of(parts.query)
        self._access_key = access_key
        self._secret = ("AWS4" + secret_key).encode()
        self._lock = threading.Lock()
        self._day = ""
        self._key = b""
        if self.url(_SAMPLE_NAME, timedelta(seconds=1), _SAMPLE_DATE) != sample:
            raise ValueError("presigned URLs would differ from minio's")

    @property
    def region(self) -> str:
        """The region the URLs are scoped to (minio's, read off its sample)."""
        return self._region

    def _signing_key(self, day: str) -> bytes:
        # Under the lock, so that a thread never pairs one day with another day's key.
        with self._lock:
            if day != self._day:
                key = _hmac(self._secret, day)
                for part in (self._region, "s3", "aws4_request"):
                    key = _hmac(key, part)
                self._day, self._key = day, key
            return self._key

    def url(self, name: str, expires: timedelta, now: datetime | None = None) -> str:
        """A presigned GET of object ``name`` (a checked blob name), valid ``expires``
        (1 s to 7 days, checked by the caller; whole seconds, rounded down as minio
        does) from ``now`` (default: the current instant). A naive ``now`` is taken as
        UTC, as minio takes it."""
        if now is None:
            when = datetime.now(UTC)
        else:
            when = now.astimezone(UTC) if now.tzinfo is not None else now
        day = when.strftime("%Y%m%d")
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{day}/{self._region}/s3/aws4_request"
        credential = quote(f"{self._access_key}/{scope}", safe="")
        # the parameters in sorted order, as the canonical query string needs them
        query = (
            f"X-Amz-Algorithm={_ALGORITHM}&X-Amz-Credential={credential}"
            f"&X-Amz-Date={stamp}&X-Amz-Expires={int(expires.total_seconds())}"
            "&X-Amz-SignedHeaders=host"
        )
        path = self._prefix + name
        canonical = f"GET\n{path}\n{query}\nhost:{self._host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{digest}"
        signature = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self._origin}{path}?{query}&X-Amz-Signature={signature}"


class GetPresigners:
    """A :class:`GetPresigner` per signer of a store (one per S3 endpoint), each built
    on its first URL: building one has minio presign a sample, and a signer without a
    region (a single endpoint's client) asks the server for it then, as minio's own
    first presign would have. Call :meth:`url` where minio's errors are translated."""

    def __init__(
        self, signers: Sequence[Minio], bucket: str, access_key: str, secret_key: str
    ) -> None:
        self._signers = signers
        self._bucket = bucket
        self._access_key = access_key
        self._secret_key = secret_key
        self.built: dict[int, GetPresigner] = {}

    def url(self, index: int, name: str, expires: timedelta) -> str:
        """A presigned GET of ``name`` at signer ``index``'s endpoint, valid ``expires``
        from now."""
        presigner = self.built.get(index)
        if presigner is None:
            # Two threads may both build one: they are equal (same signer, same URLs),
            # and whichever is stored last is kept, so no lock is needed.
            presigner = GetPresigner(
                self._signers[index], self._bucket, self._access_key, self._secret_key
            )
            self.built[index] = presigner
        return presigner.url(name, expires)
