"""Pieces the routers share: path parameter types and documented problem answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from api.models import Problem
from api.problems import MEDIA_TYPE, title_for

#: checked by the domain (``parse_patient_id``); the cap only bounds what is parsed
PatientId = Annotated[str, Path(max_length=32, description="the patient's INS")]

_DESCRIPTIONS = {
    400: "integrity-failure (a forged or expired ticket or receipt)",
    401: "unauthenticated (WWW-Authenticate: Bearer)",
    403: "forbidden or refused",
    404: "not-found and its kinds (unknown-space, unknown-document...)",
    409: "conflict",
    410: "key-destroyed",
    413: "body-too-large",
    416: "range-not-satisfiable (Content-Range: bytes */size)",
    422: "invalid-input: nothing was recorded",
    503: "unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem+json answers with these statuses."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(status, title_for("error")),
            "content": {MEDIA_TYPE: {}},
        }
        for status in statuses
    }
