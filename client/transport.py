"""What every call of the SDK stands on: one HTTP session with a Coffre server, its
requests, the reader key, and problem+json turned back into the server's error classes.

Each concept of the SDK (``client.life``, ``client.documents``, ``client.reads``, ...)
is a class over ``Transport``; ``client.sdk.CoffreClient`` composes them. A concept
module calls ``_request`` (and ``_http`` for a stream, ``_downloads`` for a read's
ciphertext); it never calls another
concept's methods except through the composed client.
"""

from __future__ import annotations

from types import TracebackType
from typing import IO, Any, Self

import httpx

from client.download import Downloader, content_length
from client.problems import Bearer, error_of
from client.readerkey import ReaderKey
from client.shapes import Progress
from wire.errors import InvalidInput, Unavailable

_PIECE = 64 * 1024

__all__ = ["Transport"]


class Transport:
    """A session with one Coffre server, as the actor its bearer token names.

    ``reader_key`` is needed only to read documents (and to register it). Use as a
    context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        reader_key: ReaderKey | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
    ) -> None:
        url = httpx.URL(base_url)
        self.reader_key = reader_key
        self._http = httpx.Client(
            base_url=url,
            auth=Bearer(token, url),
            transport=transport,
            timeout=timeout,
        )
        # a read's ciphertext, straight from the blob store unless the caller routes
        # requests itself (``client.download``)
        self._downloads = Downloader(self._http, direct=transport is None, timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connections."""
        self._downloads.close()
        self._http.close()

    def health(self) -> dict[str, Any]:
        """The server's health answer (``{"status": "ok"}``)."""
        return self._request("GET", "/v1/health")

    def _reader(self) -> ReaderKey:
        if self.reader_key is None:
            raise InvalidInput("this client has no reader key", field="reader_key")
        return self.reader_key

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.RequestError as error:
            where = self._http.base_url
            raise Unavailable(f"cannot reach Coffre at {where}: {type(error).__name__}") from None
        if response.is_error:
            raise error_of(response)
        try:
            return response.json() if response.content else None
        except ValueError:  # a proxy's HTML page, say: not the API we expect
            raise Unavailable("the server's answer is not Coffre JSON") from None

    def _stream_to(
        self,
        method: str,
        url: str,
        out: IO[bytes],
        progress: Progress | None,
        **kwargs: Any,
    ) -> int:
        """Stream an answer's body into ``out`` as it arrives (memory stays flat);
        returns its size. ``progress(done, total or None)`` counts bytes; an answer
        shorter than its ``Content-Length`` raises ``Unavailable``."""
        try:
            with self._http.stream(method, url, **kwargs) as response:
                if response.is_error:
                    response.read()
                    raise error_of(response)
                total = content_length(response.headers.get("Content-Length"))
                done = 0
                if progress:
                    progress(0, total)
                for piece in response.iter_bytes(_PIECE):
                    out.write(piece)
                    done += len(piece)
                    if progress:
                        progress(done, total)
        except httpx.RequestError as error:
            where = self._http.base_url
            raise Unavailable(f"the download from {where} failed: {type(error).__name__}") from None
        if total is not None and done != total:
            raise Unavailable(f"the download ended after {done} of {total} bytes")
        return done
