"""The blob store port: where deposited ciphertexts live, outside the event log.

A blob is an opaque byte string (always ciphertext: documents are encrypted on the client)
stored under a name the vault generates with :func:`new_name`. Events record the name, the
size and the SHA-256 returned by :meth:`BlobStore.put`; the blob is written *before* the
event is saved, so a crash leaves at worst an orphan blob, which :meth:`BlobStore.names`
lets a collector find, and a put interrupted midway leaves at worst a temporary, which
:meth:`BlobStore.collect_temporaries` removes (``vault.scheduler.BlobCollector`` runs both).

A store may also let clients upload straight to it (:class:`DirectUploads`, offered by
:attr:`BlobStore.direct`: S3's presigned multipart uploads, ``vault.blobstore_s3_direct``);
the vault then never relays the bytes (``vault.uploads``).

Implementations: :class:`vault.blobstore_memory.MemoryBlobStore` (the shipped fake),
:class:`vault.blobstore_fs.FilesystemBlobStore`, :class:`vault.blobstore_s3.S3BlobStore`.
All of them pass ``tests/blobstore/test_contract.py``.

Errors::

    NotFound     └── BlobNotFound           no blob under that name
    Unavailable  └── BlobStoreUnavailable   the backend failed or refused us (credentials,
                                            network, disk); nothing was stored
    InvalidInput                            a malformed name or argument
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TypeGuard

from wire.errors import InvalidInput, NotFound, Unavailable

#: the largest piece :meth:`BlobStore.open` yields
READ_CHUNK_SIZE = 1024 * 1024

# Names are ids the vault generates, never anything a user typed: lowercase hex only rules out
# path traversal, S3 key oddities and personal data in object keys and logs.
_NAME = re.compile(r"[0-9a-f]{32,64}")


class BlobNotFound(NotFound):
    """No blob is stored under this name."""

    code = "blob-not-found"


class BlobStoreUnavailable(Unavailable):
    """The blob backend failed or refused the request; nothing was stored or deleted."""

    code = "blob-store-unavailable"


@dataclass(frozen=True)
class BlobInfo:
    """What :meth:`BlobStore.put` stored: the name, the byte count and its SHA-256."""

    name: str
    size: int
    sha256: str  # hex digest of the stored bytes


def new_name() -> str:
    """A fresh, random blob name (32 lowercase hex characters)."""
    return uuid.uuid4().hex


def is_valid_name(name: object) -> TypeGuard[str]:
    """True for 32 to 64 lowercase hex characters (a UUID's or a SHA-256's hex form)."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_name(name: object) -> str:
    """Return ``name`` if it :func:`is_valid_name`, else raise :class:`InvalidInput`."""
    if not is_valid_name(name):
        # Don't echo the rejected value: it may be anything, personal data included.
        raise InvalidInput("a blob name must be 32 to 64 lowercase hex characters", field="name")
    return name


def check_cutoff(older_than: datetime | None) -> datetime | None:
    """Reject naive datetimes: comparing them with stored UTC times would be silently wrong."""
    if older_than is not None and older_than.utcoffset() is None:
        raise InvalidInput("older_than must be timezone-aware", field="older_than")
    return older_than


def check_expiry(expires: timedelta) -> timedelta:
    """Presigned URLs live between one second and seven days (the SigV4 limits)."""
    if not timedelta(seconds=1) <= expires <= timedelta(days=7):
        raise InvalidInput("expires must be between 1 second and 7 days", field="expires")
    return expires


class BlobStream(Iterator[bytes]):
    """An iterator over a blob's pieces that releases its resource (file, HTTP connection).

    The resource is released when the iteration ends or fails, on :meth:`close`, at the end
    of a ``with`` block, or (as a last resort) when the stream is garbage-collected. Prefer
    ``with store.open(name) as pieces:`` when a caller may stop early.
    """

    def __init__(self, pieces: Iterator[bytes], release: Callable[[], None]) -> None:
        self._pieces = pieces
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> BlobStream:
        return self

    def __next__(self) -> bytes:
        if self._release is None:
            raise StopIteration
        try:
            return next(self._pieces)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the underlying resource; later iteration yields nothing. Idempotent."""
        release, self._release = self._release, None
        if release is not None:
            try:
                close = getattr(self._pieces, "close", None)
                if close is not None:
                    close()
            finally:
                release()

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Last resort for a caller that neither finished nor closed the stream.
        if getattr(self, "_release", None) is not None:
            self.close()


@dataclass(frozen=True)
class UploadedPart:
    """One part of a direct upload, as the store holds it."""

    number: int
    size: int
    etag: str


class DirectUploads(ABC):
    """Uploads that clients send straight to the store, one presigned URL per part.

    The vault starts an upload under a fresh blob name, hands out the part URLs,
    and completes it once the client is done (after checking the parts it lists here
    itself, never the client's word for them). Nothing is visible under the name
    before :meth:`complete`; an upload never completed is removed by :meth:`abort` or,
    once older than the collector's grace, by :meth:`BlobStore.collect_temporaries`.
    """

    #: every part but the last has exactly this many bytes
    part_size: int
    #: the most parts one upload may have (the store's single-page listing bound)
    max_parts: int

    @abstractmethod
    def start(self, name: str) -> str:
        """Begin an upload under ``name``; returns its upload id."""

    @abstractmethod
    def part_url(self, name: str, upload_id: str, number: int, expires: timedelta) -> str:
        """A presigned URL to PUT part ``number`` (1-based) of the upload."""

    def alternate_part_urls(
        self, name: str, upload_id: str, number: int, expires: timedelta
    ) -> tuple[str, ...]:
        """The same part's URL at the store's other endpoints, in the order to try them
        when :meth:`part_url` cannot be reached; none by default (one endpoint)."""
        return ()

    @abstractmethod
    def parts(self, name: str, upload_id: str) -> list[UploadedPart] | None:
        """The parts received so far, by number; None when there is no such upload
        (completed, aborted, or never begun)."""

    @abstractmethod
    def complete(self, name: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """Make the upload visible under ``name`` as the concatenation of ``parts``."""

    @abstractmethod
    def abort(self, name: str, upload_id: str) -> None:
        """Discard the upload and its parts; does nothing if there is none (idempotent)."""

    @abstractmethod
    def head(self, name: str, length: int) -> tuple[bytes, int]:
        """The first ``length`` bytes of the blob (fewer if it is shorter) and its whole
        size, by one ranged read; raises BlobNotFound."""


class BlobStore(ABC):
    """Stores opaque blobs by name. Implementations must be safe to share between threads."""

    #: direct uploads, when the store offers them (S3); None: uploads go through the API
    direct: DirectUploads | None = None

    @abstractmethod
    def put(self, name: str, chunks: Iterable[bytes]) -> BlobInfo:
        """Stores the stream under name, atomically: nothing is visible under name unless the
        whole stream was stored.

        Size and SHA-256 are computed while streaming. Durable stores never hold the whole
        stream: the filesystem holds one chunk; S3 one part, in about four copies while minio
        frames and signs it (~64 MiB peak at the default 16 MiB part). An existing blob under
        ``name`` is replaced, and kept intact if the new stream fails. An exception raised by
        ``chunks`` propagates unchanged.
        """

    @abstractmethod
    def open(self, name: str) -> BlobStream:
        """Streams the blob in pieces of at most 1 MiB; raises BlobNotFound at once."""

    @abstractmethod
    def size(self, name: str) -> int:
        """The blob's size in bytes; raises BlobNotFound."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Removes the blob; does nothing if there is none (idempotent)."""

    @abstractmethod
    def names(self, *, older_than: datetime | None = None) -> Iterator[str]:
        """Names of the stored blobs, if given only those last written before ``older_than``
        (timezone-aware). For collecting orphans; the order is unspecified."""

    @abstractmethod
    def url_for_get(self, name: str, expires: timedelta) -> str | None:
        """A presigned URL to GET the blob directly, or None when the store has none."""

    def alternate_urls_for_get(self, name: str, expires: timedelta) -> tuple[str, ...]:
        """The same GET presigned for the store's other endpoints, in the order to try
        them when the first cannot be reached; none by default (one endpoint)."""
        return ()

    def collect_temporaries(self, older_than: datetime) -> int:
        """Remove what puts that never finished left behind (a temporary file, an
        incomplete multipart upload) last written or begun before ``older_than``
        (timezone-aware); return how many. A put still running is younger than any sane
        cutoff: pick one well beyond the longest upload. Stores that leave nothing
        behind (memory) return 0."""
        if check_cutoff(older_than) is None:
            # Without a cutoff we would also delete the temporaries of puts still running.
            raise InvalidInput("collect_temporaries needs older_than", field="older_than")
        return 0
