"""Errors to RFC 9457 ``application/problem+json``: the ONE place statuses are chosen.

Every ``wire.errors`` class maps to a status here (subclasses inherit their nearest
ancestor's status) and to the stable type ``https://coffre.invalid/problems/<code>``,
where ``<code>`` is the class's own ``code``. Routes never build error responses.

Besides the domain tree, the API itself answers a few problems of its own:
request validation (422 ``invalid-input``, like ``InvalidInput``), unknown routes
(404 ``not-found``), wrong methods (405 ``method-not-allowed``), oversized JSON bodies
(413 ``body-too-large``), stalled or trickling uploads (408 ``body-timeout``), a
caller's uploads beyond its limit (429 ``too-many-uploads``), interrupted uploads (400
``incomplete-body``), the database unavailable for a moment (503 ``unavailable``: down,
failing over, every pooled connection busy) and anything unexpected (500 ``internal``,
with nothing of the failure in the body).

Under ``/fhir`` the same problems answer as a FHIR ``OperationOutcome``
(``application/fhir+json``): same status, the problem's type as the issue's coding, its
detail as diagnostics, its field as expression, its extensions (``rule``,
``document_id``, ``scope``) as extensions of the issue.
"""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg_pool
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from wire.errors import (
    AlreadyDeposited,
    CoffreError,
    Conflict,
    DeviceNotApproved,
    Forbidden,
    InsufficientScope,
    IntegrityFailure,
    InvalidInput,
    KeyDestroyed,
    NotFound,
    RangeNotSatisfiable,
    Refused,
    StorageFull,
    Unauthenticated,
    Unavailable,
)
from wire.mhd import FHIR_JSON as FHIR_MEDIA_TYPE

log = structlog.get_logger(__name__)

TYPE_BASE = "https://coffre.invalid/problems/"
MEDIA_TYPE = "application/problem+json"
#: the paths whose errors are OperationOutcomes
FHIR_PREFIX = "/fhir"

#: HTTP status -> FHIR issue type (http://hl7.org/fhir/issue-type)
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    408: "timeout",
    409: "conflict",
    410: "deleted",
    413: "too-long",
    416: "incomplete",
    422: "invalid",
    429: "throttled",
    503: "transient",
    507: "transient",
}

#: status per error class; a subclass takes the status of its nearest listed ancestor
STATUS_BY_ERROR: dict[type[CoffreError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    Refused: 403,
    IntegrityFailure: 400,
    KeyDestroyed: 410,
    RangeNotSatisfiable: 416,
    Unavailable: 503,
    # 507 Insufficient Storage: the operator must free space; nothing was recorded,
    # and the same request succeeds afterwards (the SDK retries it as Unavailable)
    StorageFull: 507,
}

#: HTTP errors raised by routing or body parsing: status -> (status, code, detail).
#: FastAPI's 400 means "the body could not be parsed" (say, invalid UTF-8): that is
#: invalid input like any other, so it answers as ``invalid-input`` does, with a 422.
HTTP_PROBLEMS = {
    400: (422, "invalid-input", "the body could not be parsed"),
    404: (404, "not-found", "no such route"),
    405: (405, "method-not-allowed", "this method is not allowed on this route"),
    408: (408, "body-timeout", "the request body stalled or arrived too slowly"),
    413: (413, "body-too-large", "the request body is too large"),
    429: (429, "too-many-uploads", "this caller has as many uploads in progress as allowed"),
}

#: pydantic messages are short, but a custom validator's could quote input
MAX_DETAIL = 200

#: seconds a client should wait before retrying after a backend failure
RETRY_AFTER_SECONDS = "5"


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = MEDIA_TYPE


class OutcomeResponse(JSONResponse):
    """A FHIR OperationOutcome: the problem of a request under ``/fhir``."""

    media_type = FHIR_MEDIA_TYPE


def title_for(code: str) -> str:
    """A short human title for a problem code ("unknown-space" -> "Unknown space")."""
    return code.replace("-", " ").capitalize()


def problem(
    request: Request | None,
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a problem response; ``instance`` names the request, never its path.

    Under ``/fhir`` the same problem is an OperationOutcome (``operation_outcome``).
    """
    if request is not None and _is_fhir(request):
        outcome = operation_outcome(status, code, detail, field, extensions, _request_id(request))
        return OutcomeResponse(outcome, status_code=status, headers=headers)
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title_for(code),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extensions or {})
    request_id = _request_id(request)
    if request_id is not None:
        # The path could hold a content ticket or a patient id: point at the request id.
        body["instance"] = f"urn:coffre:request:{request_id}"
    return ProblemResponse(body, status_code=status, headers=headers)


def operation_outcome(
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    extensions: dict[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A problem as a FHIR R4 OperationOutcome with one issue."""
    issue: dict[str, Any] = {
        "severity": "error",
        "code": ISSUE_TYPES.get(status, "exception"),
        "details": {"coding": [{"system": TYPE_BASE.rstrip("/"), "code": code}]},
        "diagnostics": detail,
    }
    if field is not None:
        issue["expression"] = [field]
    if extensions:
        issue["extension"] = [
            {"url": TYPE_BASE + name, "valueString": str(value)}
            for name, value in extensions.items()
        ]
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome", "issue": [issue]}
    if request_id is not None:
        outcome["id"] = request_id
    return outcome


def _is_fhir(request: Request) -> bool:
    path = request.scope.get("path", "")
    return path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/")


def status_for(error: CoffreError) -> int:
    """The HTTP status of a Coffre error (500 for a class missing from the table)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500


def internal_problem(request: Request | None) -> JSONResponse:
    """The answer to an unexpected failure: a request id to quote, and nothing else."""
    return problem(request, 500, "internal", "an unexpected error occurred; quote the request id")


async def _coffre_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CoffreError)
    status = status_for(error)
    headers: dict[str, str] = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
        # Operators' security log: every refused authentication, with why (never the
        # token; the request id ties it to the request's own line).
        log.warning("authentication_refused", reason=error.detail)
    if isinstance(error, InsufficientScope):
        # RFC 6750 section 3.1: say which scope would do
        headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{error.scope}"'
    if isinstance(error, Unavailable):
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    if isinstance(error, RangeNotSatisfiable):
        # RFC 9110 section 15.5.17: the length the range missed
        headers["Content-Range"] = f"bytes */{error.size}"
    if status >= 500:
        log.error("backend_failure", code=error.code)
    return problem(
        request,
        status,
        error.code,
        error.detail,
        field=getattr(error, "field", None),
        headers=headers or None,
        extensions=_extensions(error),
    )


def _extensions(error: CoffreError) -> dict[str, str] | None:
    # a refusal names the rule that failed (RULES.md); the patient sees it too
    if isinstance(error, Refused | DeviceNotApproved):
        return {"rule": error.rule}
    # a repeated or colliding deposit names the depositor's own document
    if isinstance(error, AlreadyDeposited):
        return {"document_id": error.document_id}
    if isinstance(error, InsufficientScope):
        return {"scope": error.scope}
    return None


#: the database's own failures that pass with time: down, unreachable, failing over (a
#: primary gone, a replica that is not promoted yet), every pooled connection busy
TRANSIENT_DATABASE = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.errors.ReadOnlySqlTransaction,
    psycopg_pool.PoolTimeout,
)


def is_transient(error: BaseException) -> bool:
    """Whether a database failure is one to retry (a failover, a restart), given
    eventsourcing's wrappers, whose cause is psycopg's own error."""
    return isinstance(error, TRANSIENT_DATABASE) or isinstance(error.__cause__, TRANSIENT_DATABASE)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    # A failover shows as a failed statement or connection; the client retries later,
    # by which time the pools have reconnected to the new primary. Nothing was half
    # recorded: each change is one transaction, committed or not. Other database
    # errors are bugs: a 500 like any unexpected failure.
    if not is_transient(error):
        log.error("database_failure", error=type(error).__name__)
        return internal_problem(request)
    log.warning("database_unavailable", error=type(error).__name__)
    return problem(
        request,
        503,
        "unavailable",
        "the database is unavailable for a moment (a failover?); try again",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # Concise on purpose: the first error's place and message, never the input itself.
    errors = list(error.errors())
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    field = _field(first)
    message = "the body is not valid JSON" if first.get("type") == "json_invalid" else first["msg"]
    detail = f"{field}: {message}" if field else str(message)
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem(request, 422, "invalid-input", detail[:MAX_DETAIL], field=field)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    fallback = (error.status_code, "http-error", str(error.detail)[:MAX_DETAIL])
    status, code, detail = HTTP_PROBLEMS.get(error.status_code, fallback)
    field = "body" if code == "invalid-input" else None
    headers = dict(error.headers) if error.headers else None
    if error.status_code == 405:
        # Starlette's Allow names only the first route matching the path; a path served
        # by several routes (GET and POST) allows the methods of all of them.
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem(request, status, code, detail, field=field, headers=headers)


def _allowed_methods(request: Request) -> str:
    allowed = [
        method
        for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


async def _client_disconnect(request: Request, error: Exception) -> JSONResponse:
    # Nobody will read this answer; it exists so the request line logs what happened.
    log.info("client_disconnected")
    return problem(request, 400, "incomplete-body", "the request body ended early")


def _field(error: Any) -> str | None:
    loc = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid" or loc == ["body"]:
        return "body"
    # ("body", "grantee", "id") -> "grantee.id"; ("path", "patient_id") -> "patient_id"
    return ".".join(loc[1:]) or None


def _request_id(request: Request | None) -> str | None:
    if request is None:
        return None
    return request.scope.get("state", {}).get("request_id")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every known failure into problem+json."""
    app.add_exception_handler(CoffreError, _coffre_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    for database_error in (PersistenceError, psycopg.Error, psycopg_pool.PoolTimeout):
        app.add_exception_handler(database_error, _database_error)
