"""Uploading a deposit's ciphertext: straight to the blob store when the server offers
it, else through the API (``api.routers.documents``, ``vault.uploads``).

Direct: the SDK announces the ciphertext's size, receives the space's key and one
presigned URL per part (every part but the last of the server's ``part_size``), PUTs
each part to S3 as it is encrypted, then asks the server to complete the upload with
the SHA-256 it computed on the way. The server checks the parts, the size and the
envelope header, and answers the same receipt as the relay. A server that says
``completes_on_deposit`` takes the upload's ticket and the SHA-256 in the deposit
itself and completes the upload there (one request fewer); the upload step then
answers ``{"upload", "sha256", "size"}`` instead of a receipt. Memory stays at one
envelope record whatever the size.

The relay (one streamed POST to the API) is used when the source's size is unknown
(an iterable of bytes), when the server answers ``direct-upload-unavailable`` (the
files backend) or has no such route (an older server); the client then remembers it
and relays every later deposit at once. A direct upload that fails midway is aborted
(best effort: the server's collector removes what is left after the ticket's lifetime).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from client.io import space_path
from client.shapes import Meter, Progress, parse_space_key
from client.transport import Transport
from wire.dto import SpaceKeyInfo
from wire.envelope import DataKey, ciphertext_size, encrypt
from wire.errors import (
    CoffreError,
    DirectUploadUnavailable,
    IntegrityFailure,
    NotFound,
    Unavailable,
)

__all__ = ["UploadMethods"]

# An S3 error body names its cause in <Code>; only that bounded word is ever echoed.
_S3_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")


class UploadMethods(Transport):
    """The upload step of a deposit."""

    #: False once the server said it takes no direct uploads: later deposits relay at once
    direct_uploads: bool = True

    def _upload(
        self,
        patient_id: str,
        pieces: Iterable[bytes],
        size: int | None,
        data_key: DataKey,
        progress: Progress | None,
    ) -> tuple[dict[str, Any], Meter, SpaceKeyInfo]:
        """Encrypt ``pieces`` (``size`` plaintext bytes, if known) under ``data_key`` and
        upload the ciphertext; returns the server's upload answer, the meter that
        counted and hashed what was sent, and the space's key (to seal ``data_key`` to).
        """
        total = None if size is None else ciphertext_size(size)
        meter = Meter(progress, total)
        if total is not None and self.direct_uploads:
            started = self._start_direct(patient_id, total)
            if started is not None:
                space = parse_space_key(started["space_key"])
                chunks = meter.wrap(encrypt(pieces, data_key))
                return self._send_direct(patient_id, started, chunks, total, meter), meter, space
        # The key first, as before direct uploads: a caller who may not deposit learns it
        # before sending a byte.
        space = parse_space_key(self._request("GET", f"{space_path(patient_id)}/key"))
        upload = self._request(
            "POST",
            f"{space_path(patient_id)}/uploads",
            content=meter.wrap(encrypt(pieces, data_key)),  # a generator: chunked upload
            headers={"Content-Type": "application/octet-stream"},
        )
        return upload, meter, space

    def _start_direct(self, patient_id: str, total: int) -> dict[str, Any] | None:
        # None: this server takes no direct uploads (say so once, then relay).
        try:
            return self._request(  # type: ignore[no-any-return]
                "POST", f"{space_path(patient_id)}/direct-uploads", json={"size": total}
            )
        except DirectUploadUnavailable:
            self.direct_uploads = False
            return None
        except NotFound as error:
            if type(error) is not NotFound:  # unknown-space and kin: a real answer
                raise
            self.direct_uploads = False  # an older server, without the route
            return None
        except CoffreError as error:
            if getattr(error, "status", None) != 405:  # a route that takes no POST
                raise
            self.direct_uploads = False
            return None

    def _send_direct(
        self,
        patient_id: str,
        started: dict[str, Any],
        chunks: Iterator[bytes],
        total: int,
        meter: Meter,
    ) -> dict[str, Any]:
        base = f"{space_path(patient_id)}/direct-uploads"
        ticket = str(started["upload"])
        part_size = int(started["part_size"])
        parts = _Parts(chunks)
        try:
            for part in started["parts"]:
                number = int(part["number"])
                length = min(part_size, total - (number - 1) * part_size)
                # newer servers with several S3 gateways: the part's URL at each other one
                urls = [str(part["url"]), *map(str, part.get("alternates", ()))]
                self._put_part(urls, parts.take(length), length)
            if not parts.exhausted() or meter.done != total:
                raise IntegrityFailure("the document changed size while it was read")
            if started.get("completes_on_deposit") is True:
                # the deposit completes it (one request fewer): what it will name
                return {"upload": ticket, "sha256": meter.hexdigest(), "size": total}
            return self._request(  # type: ignore[no-any-return]
                "POST", f"{base}/complete", json={"upload": ticket, "sha256": meter.hexdigest()}
            )
        except BaseException:
            self._abort_direct(patient_id, ticket)
            raise

    def _abort_direct(self, patient_id: str, ticket: str) -> None:
        # Best effort: an upload left behind is collected once its ticket expires. A
        # completed one is left alone by the server (it may be deposited by now).
        with contextlib.suppress(CoffreError):
            self._request(
                "POST", f"{space_path(patient_id)}/direct-uploads/abort", json={"upload": ticket}
            )

    def _put_part(self, urls: list[str], body: Iterator[bytes], length: int) -> None:
        # Content-Length is given, so httpx streams the generator without chunked
        # encoding (S3 wants the length); the bearer token is not sent to another origin.
        # The part is not held in memory: the next URL is tried only while none of its
        # bytes were taken (the connection failed), else the deposit fails, retryably.
        tracked = _Tracked(body)
        for index, url in enumerate(urls):
            try:
                response = self._http.put(
                    url, content=tracked, headers={"Content-Length": str(length)}
                )
            except httpx.RequestError as error:
                if not tracked.started and index < len(urls) - 1:
                    continue
                # never echo the URL: it carries the S3 signature
                failure = type(error).__name__
                raise Unavailable(f"the upload to the blob store failed: {failure}") from None
            break
        if response.is_error:
            found = _S3_CODE.search(response.content[:4096])
            code = found.group(1).decode("ascii") if found else f"HTTP {response.status_code}"
            if response.status_code >= 500:
                raise Unavailable(f"the blob store failed ({code})")
            raise IntegrityFailure(f"the blob store refused a part ({code}): deposit again")


class _Tracked:
    """An iterator that says whether anything was taken from it yet."""

    def __init__(self, source: Iterator[bytes]) -> None:
        self._source = source
        self.started = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        self.started = True
        return next(self._source)


class _Parts:
    """Cuts a stream of chunks into consecutive parts of given lengths, lazily: at most
    one chunk is held at a time."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._source = chunks
        self._pending = memoryview(b"")

    def take(self, length: int) -> Iterator[bytes]:
        """The next ``length`` bytes, in pieces; IntegrityFailure if the stream ends first."""
        left = length
        while left:
            if not self._pending:
                chunk = next(self._source, None)
                if chunk is None:
                    raise IntegrityFailure("the document changed size while it was read")
                self._pending = memoryview(chunk).cast("B")
                continue
            piece = self._pending[:left]
            self._pending = self._pending[len(piece) :]
            left -= len(piece)
            yield bytes(piece)

    def exhausted(self) -> bool:
        """True when nothing is left of the stream."""
        return not self._pending and next(self._source, None) is None
