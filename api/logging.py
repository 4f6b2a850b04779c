"""Structured logs for the API: one line per request, a request id on every line.

What a line may hold is decided here. Never a body, a token, a ticket, a key, nor a
patient id: the request line logs a redacted path (``/v1/content/***``,
``/v1/spaces/***/...``) and no query string. As a last line of defence every rendered
line is scrubbed of anything shaped like a JWT, a ticket or a long base64 blob.

uvicorn must run with its own access log off (``access_log=False``) and without its
own logging config (``log_config=None``), so that its error lines reach the root
handler installed here and no line carries a raw path.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any, TextIO

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems

log = structlog.get_logger("api.request")

REQUEST_ID_HEADER = "X-Request-ID"
#: an incoming request id is kept only if it is this plain (no injection into logs)
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

#: path segments that are secrets (content tickets) or personal data (patient ids)
_PATH_REDACTIONS = (
    (re.compile(r"(/v1/content/)[^/]+"), r"\1***"),
    (re.compile(r"(/v1/spaces/)[^/]+"), r"\1***"),
    (re.compile(r"(/v1/readers/[^/]+/)[^/]+"), r"\1***"),  # a person's devices: their INS
)

#: JWTs and tickets both start with base64url('{"'); sealed keys are long base64 runs
_SECRET_SHAPES = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)+|[A-Za-z0-9+/_-]{60,}={0,2}")

_HANDLER_MARK = "_coffre_handler"


def redact_path(path: str) -> str:
    """The request path with tickets and patient ids replaced by ``***``."""
    for pattern, replacement in _PATH_REDACTIONS:
        path = pattern.sub(replacement, path)
    return path


def scrub(text: str) -> str:
    """Replace anything shaped like a token, ticket or key in ``text`` by ``***``."""
    return _SECRET_SHAPES.sub("***", text)


def _scrubbing(renderer: Any) -> Any:
    def render(logger: Any, method: str, event_dict: Any) -> str:
        return scrub(str(renderer(logger, method, event_dict)))

    return render


def configure_logging(
    log_format: str = "console", *, stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Route structlog and stdlib logging (uvicorn's too) to one scrubbed handler.

    ``log_format`` is ``"json"`` (one object per line, for production) or ``"console"``.
    Tracebacks never show local variables: locals are where tokens and keys live.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if log_format == "json":
        tracebacks = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        final: list[Any] = [structlog.processors.ExceptionRenderer(tracebacks)]
        renderer = structlog.processors.JSONRenderer()
    else:
        final = []
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a reconfiguration (a second app, a test capturing logs) must reach
        # loggers already used; the cost is one small bind per log call.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *final,
            _scrubbing(renderer),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    # Reconfiguring (a second app, a test) replaces our handler instead of doubling it.
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request's full URL at INFO: presigned URLs and tickets included.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _incoming_request_id(scope: Scope) -> str | None:
    value = Headers(scope=scope).get(REQUEST_ID_HEADER)
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


class RequestContext:
    """Pure ASGI middleware: request id, one log line per request, last-resort 500.

    Pure ASGI (not ``BaseHTTPMiddleware``) so that streamed bodies stay streamed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request inside a bound request id."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled_error")
                if status is not None:
                    raise  # the answer is half sent: let the server drop the connection
                await problems.internal_problem(Request(scope))(scope, receive, send_with_id)
            finally:
                log.info(
                    "request",
                    method=scope["method"],
                    path=redact_path(scope["path"]),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )
