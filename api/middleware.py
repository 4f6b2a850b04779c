"""Transport guards every route shares: a cap on request bodies, protective headers.

Both are pure ASGI middleware so that streamed uploads and downloads stay streamed.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems

#: JSON bodies are small (a grant scope of 1000 document ids is ~40 KiB)
MAX_JSON_BODY = 256 * 1024

#: ciphertext uploads are capped by the vault (``max_document_size``), not here
STREAMED_PATHS = re.compile(r"/v1/spaces/[^/]+/uploads$")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (except streamed uploads) with a 413.

    FastAPI reads a JSON body whole before validating it, so without this a client
    could make the server buffer gigabytes to be told a title is too long.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body bytes as they arrive."""
        if scope["type"] != "http" or STREAMED_PATHS.search(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            # Refuse before reading a byte; the route never runs.
            response = problems.problem(
                Request(scope), 413, "body-too-large", "the request body is too large"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions met while reading the body, so
                    # this reaches the problem handlers like any routing error.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    """Answers hold health data: never cached, never sniffed, never framed."""

    HEADERS = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response unless a route set its own."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
