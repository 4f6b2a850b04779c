"""Transport guards every route shares: caps and pacing on request bodies, headers.

All are pure ASGI middleware so that streamed uploads and downloads stay streamed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems

log = structlog.get_logger(__name__)

#: JSON bodies are small (a grant scope of 1000 document ids is ~40 KiB)
MAX_JSON_BODY = 256 * 1024

#: an ITI-65 transaction carries its envelopes in base64 (``api.routers.fhir``); larger
#: documents go through the streamed upload of the JSON API
MAX_FHIR_TRANSACTION = 16 * 1024 * 1024
FHIR_TRANSACTION_PATH = re.compile(r"^/fhir/?$")

#: ciphertext uploads are capped by the vault (``max_document_size``), not by MAX_JSON_BODY
STREAMED_PATHS = re.compile(r"/v1/spaces/[^/]+/uploads$")

#: methods whose requests carry a body a route may read; the OpenAPI document declares
#: a 413 on each operation with one of them (``api.app``)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

#: a refused body is left unread: the connection cannot carry another request after it
CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class UploadLimits:
    """How an upload body must arrive (``vault.settings.Settings``, "Uploads")."""

    max_bytes: int = 4 * 1024**3
    idle_timeout: float = 30.0
    min_rate: int = 1024
    rate_window: float = 60.0

    @classmethod
    def of(cls, app: Any) -> UploadLimits:
        """The limits of the application serving this request (defaults without one)."""
        services = getattr(getattr(app, "state", None), "services", None)
        settings = getattr(services, "settings", None)
        vault = getattr(services, "vault", None)
        default = cls()
        return cls(
            max_bytes=getattr(vault, "max_document_size", default.max_bytes),
            idle_timeout=getattr(settings, "upload_idle_timeout", default.idle_timeout),
            min_rate=getattr(settings, "upload_min_rate", default.min_rate),
            rate_window=getattr(settings, "upload_rate_window", default.rate_window),
        )


def _declared_length(scope: Scope) -> int | None:
    declared = Headers(scope=scope).get("content-length", "")
    return int(declared) if declared.isdigit() else None


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413; pace upload bodies.

    FastAPI reads a JSON body whole before validating it, so without this a client
    could make the server buffer gigabytes to be told a title is too long. Uploads
    (``STREAMED_PATHS``) are streamed, so they get the vault's maximum instead, and
    :class:`PacedBody` so that a stalled or trickling client cannot hold one of the
    few upload slots for ever.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if STREAMED_PATHS.search(scope["path"]):
            limits = UploadLimits.of(scope.get("app"))
            if declared is not None and declared > limits.max_bytes:
                await self._refuse(scope, receive, send)
                return
            # The body may exceed neither what it announced nor the vault's maximum.
            cap = limits.max_bytes if declared is None else declared
            await self.app(scope, PacedBody(receive, limits, cap), send)
            return
        limit = self.max_bytes
        if FHIR_TRANSACTION_PATH.match(scope["path"]):
            limit = max(limit, MAX_FHIR_TRANSACTION)
        if declared is not None and declared > limit and scope["method"] in BODY_METHODS:
            # Refuse before reading a byte; the route never runs. (A GET's body is never
            # read by any route, so it is left alone and costs nothing.)
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions met while reading the body, so
                    # this reaches the problem handlers like any routing error.
                    raise HTTPException(status_code=413, headers=CLOSE)
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(
            Request(scope), 413, "body-too-large", "the request body is too large", headers=CLOSE
        )
        await response(scope, receive, send)


class PacedBody:
    """An ASGI ``receive`` for an upload body that must keep arriving.

    Each wait for the next piece may last at most ``idle_timeout`` seconds, and over
    every ``rate_window`` seconds spent waiting for the client the body must average
    ``min_rate`` bytes a second; otherwise a 408 ends the request (the vault's blob put
    sees the exception and removes its partial blob) and the connection is closed.
    Only time spent waiting for the client counts, so a slow blob store does not make
    an honest client look slow. More than ``cap`` bytes is a 413.
    """

    def __init__(self, receive: Receive, limits: UploadLimits, cap: int) -> None:
        self._receive = receive
        self._limits = limits
        self._cap = cap
        self.received = 0
        self._window_waited = 0.0
        self._window_bytes = 0

    async def __call__(self) -> Message:
        """The next ASGI message of the request, or a 408/413 ``HTTPException``."""
        started = time.monotonic()
        with anyio.move_on_after(self._limits.idle_timeout) as waiting:
            message = await self._receive()
        if waiting.cancelled_caught:
            log.info("upload_stalled", received=self.received)
            raise HTTPException(status_code=408, headers=CLOSE)
        if message["type"] != "http.request":
            return message
        size = len(message.get("body", b""))
        self.received += size
        if self.received > self._cap:
            raise HTTPException(status_code=413, headers=CLOSE)
        self._window_waited += time.monotonic() - started
        self._window_bytes += size
        if self._window_waited >= self._limits.rate_window:
            if self._window_bytes < self._limits.min_rate * self._window_waited:
                log.info("upload_too_slow", received=self.received)
                raise HTTPException(status_code=408, headers=CLOSE)
            self._window_waited, self._window_bytes = 0.0, 0
        return message


def content_security_policy(connect: Sequence[str] = (), forms: Sequence[str] = ()) -> str:
    """The Content-Security-Policy of every answer: only this server's own scripts (no
    inline script, no ``eval``; ``'wasm-unsafe-eval'`` lets libsodium compile its
    WebAssembly), no plugins, no ``<base>``, never framed. ``connect`` adds origins the
    page may fetch from (the S3 endpoint of presigned transfers), ``forms`` origins its
    forms may post to (the identity provider's login)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        # Swagger UI and most component libraries set style attributes; styles cannot run code
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *connect],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'", *forms],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(
        f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items()
    )


class SecurityHeaders:
    """Answers hold health data: never cached, never sniffed, never framed, and pages
    run only this server's scripts (``content_security_policy``). HSTS is sent on
    answers served over https (``https_only``: also when a proxy ends TLS in front)."""

    HEADERS = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }
    #: two years, as browsers' preload lists ask
    HSTS = "max-age=63072000; includeSubDomains"

    def __init__(
        self, app: ASGIApp, policy: str | None = None, *, https_only: bool = False
    ) -> None:
        self.app = app
        self.headers = {
            **self.HEADERS,
            "Content-Security-Policy": policy or content_security_policy(),
        }
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response unless a route set its own."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.https_only or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", self.HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
