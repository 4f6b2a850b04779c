"""The HTTP side of the SDK: problem+json back to the server's own error classes, and
the bearer token kept to the API's origin.

Failures raise the very classes server code raises (``wire.errors``): a problem's
``type`` names the class, and a bare status falls back to its nearest one.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from wire.errors import (
    CoffreError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)

__all__ = ["Bearer", "error_from_problem", "error_of", "origin_of"]

# When a response carries no known problem type, its status still says what happened.
_BY_STATUS: dict[int, type[CoffreError]] = {
    400: InvalidInput,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidInput,
    422: InvalidInput,
}


def error_from_problem(status: int, problem: Mapping[str, Any] | None) -> CoffreError:
    """The ``CoffreError`` an RFC 9457 problem (or a bare error status) stands for."""
    problem = problem or {}
    code = str(problem.get("type", "")).rstrip("/").rpartition("/")[2]
    cls = _error_classes().get(code) or _BY_STATUS.get(status)
    if cls is None:
        cls = Unavailable if status >= 500 else CoffreError
    detail = str(problem.get("detail") or problem.get("title") or f"HTTP error {status}")
    # Subclasses have differing constructors (rule=, field=); build the instance through
    # the base so every class comes back the same way, then restore the extras.
    error = cls.__new__(cls)
    CoffreError.__init__(error, detail)
    error.field = problem.get("field")  # type: ignore[attr-defined]
    error.rule = problem.get("rule")  # type: ignore[attr-defined]
    error.document_id = problem.get("document_id")  # type: ignore[attr-defined]
    error.status = status  # type: ignore[attr-defined]
    return error


def _error_classes() -> dict[str, type[CoffreError]]:
    # Breadth-first, so a parent keeps its code if a subclass forgot to set its own.
    # Walked per call (errors are rare) so classes imported later are found too.
    found: dict[str, type[CoffreError]] = {}
    pending: deque[type[CoffreError]] = deque([CoffreError])
    while pending:
        cls = pending.popleft()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


class Bearer(httpx.Auth):
    """Adds the bearer token, but only to requests for the API's own origin."""

    def __init__(self, token: str, base_url: httpx.URL) -> None:
        self._header = f"Bearer {token}" if token else ""
        self._origin = origin_of(base_url)

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        """Attach the token to same-origin requests."""
        # A content_url may be presigned S3 on another host: it must never get the token.
        # Without a token (public routes: health, the trail's public key) nothing is sent.
        if self._header and origin_of(request.url) == self._origin:
            request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "_Bearer(<redacted>)"


def error_of(response: httpx.Response) -> CoffreError:
    """The error an API's answer stands for (``response`` read)."""
    return error_of_answer(response.status_code, response.content)


def error_of_answer(status: int, body: bytes) -> CoffreError:
    """The error an API's error answer (problem+json, or a FHIR OperationOutcome)
    stands for, from its status and body."""
    try:
        problem = json.loads(body)
    except ValueError:
        problem = None
    if isinstance(problem, dict) and problem.get("resourceType") == "OperationOutcome":
        problem = problem_of_outcome(problem)
    return error_from_problem(status, problem if isinstance(problem, dict) else None)


def problem_of_outcome(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The problem an OperationOutcome of ``/fhir`` carries (``api.problems``): its
    first issue's coding is the problem type, its diagnostics the detail, its expression
    the field, its extensions the problem's extensions (``rule``, ``document_id``)."""
    issues = outcome.get("issue") or [{}]
    issue = issues[0] if isinstance(issues[0], Mapping) else {}
    codings = (issue.get("details") or {}).get("coding") or [{}]
    problem: dict[str, Any] = {
        "type": f"{codings[0].get('system', '')}/{codings[0].get('code', '')}",
        "detail": issue.get("diagnostics"),
        "field": (issue.get("expression") or [None])[0],
    }
    for extension in issue.get("extension") or []:
        name = str(extension.get("url", "")).rstrip("/").rpartition("/")[2]
        problem[name] = extension.get("valueString")
    return problem


def origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port
