"""A read's ciphertext download: by urllib3 from the blob store, by httpx from the API.

Why two HTTP clients: the SDK's session is httpx, whose HTTP/1.1 parser (h11) is pure
Python and copies every byte of a body through its receive buffer. For a presigned S3
URL, the bulk of a read, urllib3 (``http.client`` reading into the caller's buffer)
took 31.9 ms for a 10 MiB document, hashing and decryption included, against 41.2 ms
with httpx, on the same S3 server in the same run (bench row 2, ``bench/README.md``).

So a download goes by urllib3 when the SDK owns its network and speaks to the blob
store directly. It stays on the httpx session (as every API call does) when:

* the URL is the API's own (``/v1/content/<ticket>``, the relay of the file store);
* the caller gave the SDK an httpx transport of its own (a test's fake network, a
  mounted transport): the caller decides how requests travel;
* a proxy is configured for the URL (``HTTPS_PROXY``, ``ALL_PROXY``, ... unless
  ``NO_PROXY`` exempts the host), which httpx honours and urllib3 would not.

Both verify TLS the same way (urllib3 is given httpx's default SSL context: certifi,
``SSL_CERT_FILE`` and ``SSL_CERT_DIR``), follow no redirect, retry nothing, and wait
as long as the session's timeout. Their failures become :class:`DownloadFailed`,
named by the underlying error's class only (an URL carries a signature or a ticket).
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import urllib3

__all__ = ["PIECE", "Download", "DownloadFailed", "Downloader", "content_length"]

#: the size of the pieces a direct download is read in: one record of envelope v1, so
#: that decryption mostly gets whole records without joining pieces
PIECE = 256 * 1024
#: the pieces of httpx's body (what the socket gave, up to its 64 KiB reads)
_HTTPX_PIECE = 64 * 1024
#: an error answer's body is read up to this (an S3 error is a short XML document)
_ERROR_BODY = 64 * 1024


class DownloadFailed(Exception):
    """The connection failed or broke before the whole body arrived."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause_name = type(cause).__name__


@dataclass
class Download:
    """An answer whose body has not been read yet."""

    status: int
    length: int | None
    #: the body's pieces are at most this long
    piece: int
    _chunks: Iterator[bytes]

    def body(self) -> Iterator[bytes]:
        """The body's pieces; :class:`DownloadFailed` if the connection breaks."""
        return self._chunks

    def error_body(self) -> bytes:
        """The first bytes of an error answer's body (the rest is not waited for)."""
        parts: list[bytes] = []
        size = 0
        for piece in self._chunks:
            parts.append(piece)
            size += len(piece)
            if size >= _ERROR_BODY:
                break
        return b"".join(parts)[:_ERROR_BODY]


def content_length(value: str | None) -> int | None:
    """A ``Content-Length`` header's value as a number, or ``None`` when absent or not
    plain ASCII digits (``str.isdigit`` alone takes "²", which ``int`` refuses)."""
    return int(value) if value and value.isascii() and value.isdigit() else None


def _translated(
    chunks: Iterator[bytes], errors: tuple[type[BaseException], ...]
) -> Iterator[bytes]:
    try:
        yield from chunks
    except errors as error:
        raise DownloadFailed(error) from None


def _urllib3_timeout(timeout: float | httpx.Timeout) -> urllib3.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return urllib3.Timeout(connect=timeout.connect, read=timeout.read)
    return urllib3.Timeout(connect=timeout, read=timeout)


def _proxied(url: str) -> bool:
    # the environment's proxies, as httpx reads them (trust_env)
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


class Downloader:
    """Opens a read's downloads (see the module): urllib3 straight to the blob store,
    else the SDK's httpx session. Thread-safe; :meth:`close` drops its connections."""

    def __init__(self, http: httpx.Client, *, direct: bool, timeout: float | httpx.Timeout) -> None:
        self._http = http
        self._direct = direct
        self._timeout = _urllib3_timeout(timeout)
        self._pool: urllib3.PoolManager | None = None
        self._lock = threading.Lock()

    def _direct_pool(self) -> urllib3.PoolManager:
        # made on the first direct download (loading the CA bundle costs milliseconds,
        # which a client that never reads need not pay); once, whatever the threads
        with self._lock:
            if self._pool is None:
                self._pool = urllib3.PoolManager(
                    num_pools=8,
                    maxsize=4,
                    retries=False,
                    timeout=self._timeout,
                    ssl_context=httpx.create_ssl_context(),
                )
            return self._pool

    def is_direct(self, url: str, api: bool) -> bool:
        """Whether ``url`` (the API's own when ``api``) goes by urllib3."""
        return self._direct and not api and not _proxied(url)

    @contextlib.contextmanager
    def open(self, url: str, *, api: bool) -> Iterator[Download]:
        """GET ``url``; the answer, its body not read yet. :class:`DownloadFailed` when
        no answer comes, or when the body breaks off while it is read."""
        if self.is_direct(url, api):
            with self._open_direct(url) as download:
                yield download
            return
        try:
            with self._http.stream("GET", url) as response:
                yield Download(
                    response.status_code,
                    content_length(response.headers.get("Content-Length")),
                    _HTTPX_PIECE,
                    _translated(response.iter_bytes(), (httpx.RequestError,)),
                )
        except httpx.RequestError as error:
            raise DownloadFailed(error) from None

    @contextlib.contextmanager
    def _open_direct(self, url: str) -> Iterator[Download]:
        try:
            response = self._direct_pool().request(
                "GET", url, preload_content=False, redirect=False
            )
        except urllib3.exceptions.HTTPError as error:
            raise DownloadFailed(error) from None
        try:
            yield Download(
                response.status,
                content_length(response.headers.get("Content-Length")),
                PIECE,
                _translated(response.stream(PIECE), (urllib3.exceptions.HTTPError, OSError)),
            )
        finally:
            # A connection is reused only once its body was read to the end; one left
            # midway (an error answer, a caller that stopped, a failed check) is closed
            # rather than drained: the rest may be gigabytes.
            if response.length_remaining != 0:
                response.close()
            response.release_conn()

    def close(self) -> None:
        """Close the direct connections (the httpx session is its owner's)."""
        if self._pool is not None:
            self._pool.clear()
