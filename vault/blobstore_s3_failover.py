"""Several endpoints for one S3 bucket (two Ceph RGW instances of one zone, say), and the
rule for moving from one to the next: ``vault.blobstore_s3`` runs each request through
:class:`Failover`.

An endpoint that does not answer (refused or dropped connection, timeout) or answers
5xx gets the same request once more, at the next endpoint, each endpoint at most once
per request. Any other answer (an object missing, a refused signature) is the bucket's
and final. The endpoint that last answered is tried first: once a gateway is down, its
connection failures are paid for once, not by every request.

Only requests that can be sent again go through here: a put holds the part it sends
(``S3BlobStore.put``), so each part, like the upload's creation and completion, may go
to the next endpoint (the gateways of one bucket share its uploads). The object is
written whole or not at all either way, and the vault records an event only after the
put returned.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import structlog
import urllib3
from minio.error import MinioException, S3Error, ServerError

from vault.blobstore import BlobNotFound, BlobStoreUnavailable

log = structlog.get_logger(__name__)

T = TypeVar("T")
C = TypeVar("C")


class EndpointFailed(BlobStoreUnavailable):
    """This endpoint gave no answer, or a 5xx: another one may serve the same bucket."""


def parse_endpoint(text: str, secure: bool) -> tuple[str, bool]:
    """``(host[:port], secure)`` of an endpoint given as ``host:port`` or as a URL."""
    if "://" not in text:
        return text, secure
    url = urlsplit(text)
    if url.scheme not in {"http", "https"} or not url.netloc or url.path.strip("/"):
        raise ValueError("an S3 endpoint is host:port or http(s)://host[:port], without a path")
    return url.netloc, url.scheme == "https"


def split_endpoints(text: str) -> list[str]:
    """The endpoints of a comma-separated list (``COFFRE_S3_ENDPOINT``), in order."""
    endpoints = [part.strip() for part in text.split(",") if part.strip()]
    if not endpoints:
        raise ValueError("no S3 endpoint given")
    return endpoints


class Failover(Generic[C]):
    """Runs a request against one endpoint's client after the other until one answers."""

    def __init__(self, clients: Sequence[C]) -> None:
        if not clients:
            raise ValueError("at least one endpoint")
        self.clients = list(clients)
        self._preferred = 0
        self._lock = threading.Lock()

    @property
    def preferred(self) -> int:
        """The index of the endpoint tried first (the last one that answered)."""
        return self._preferred

    def order(self) -> list[int]:
        """Endpoint indexes, the preferred one first, then the others in their order."""
        first = self._preferred
        count = len(self.clients)
        return [(first + step) % count for step in range(count)]

    def run(self, action: str, request: Callable[[C], T]) -> T:
        """``request(client)`` at the preferred endpoint, then at each other one while it
        raises :class:`EndpointFailed`; the last endpoint's failure is raised."""
        order = self.order()
        for attempt, index in enumerate(order):
            try:
                result = request(self.clients[index])
            except EndpointFailed as failure:
                if attempt == len(order) - 1:
                    raise
                log.warning("s3_endpoint_failed", action=action, endpoint=index, error=str(failure))
                continue
            if index != self._preferred:
                with self._lock:
                    self._preferred = index
                log.info("s3_endpoint_preferred", endpoint=index)
            return result
        raise AssertionError("unreachable: there is at least one endpoint")


#: S3's codes for an object that is not there
_MISSING_OBJECT = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}


@contextlib.contextmanager
def translated(action: str, name: str | None = None) -> Iterator[None]:
    """Map S3 and transport failures to BlobNotFound / BlobStoreUnavailable, and to
    EndpointFailed (a BlobStoreUnavailable) when another endpoint may answer."""
    try:
        yield
    except S3Error as exc:
        if name is not None and exc.code in _MISSING_OBJECT:
            raise BlobNotFound(f"no blob named {name}") from None
        status = exc.response.status if exc.response is not None else 0
        failure = EndpointFailed if status >= 500 else BlobStoreUnavailable
        # e.g. SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied, NoSuchBucket; or
        # a gateway's InternalError / ServiceUnavailable (5xx), which another may not have
        raise failure(f"S3 {action}: {exc.code}: {exc.message}") from None
    except (ServerError, urllib3.exceptions.HTTPError) as exc:
        # 5xx without an S3 body, MaxRetryError, timeouts, refused or dropped connections
        raise EndpointFailed(f"S3 {action}: {type(exc).__name__}: {exc}") from None
    except MinioException as exc:
        # InvalidResponseError (not S3 answering: a proxy's error page) and kin
        raise EndpointFailed(f"S3 {action}: {type(exc).__name__}: {exc}") from None
