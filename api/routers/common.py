"""Pieces the routers share: the router class, path parameter types and documented
problem answers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

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


class Router(APIRouter):
    """An ``APIRouter`` that tells at once when none of its own routes can match a path.

    FastAPI (0.163) looks for a request's route router by router, asking each included
    router to try its routes one by one at ~4 us a route, twice for the router that
    matches: a read (``reads``, the fifth router) spent ~0.15 ms there, and a FHIR
    search (the fifteenth) ~0.5 ms, before any work. Here one regular expression, the
    union of this router's route paths, answers "no match" for every other router in
    ~1 us; a path it does match goes through FastAPI's own matching, unchanged.

    Routers are included without an extra prefix (``api.app``): the union is built
    from the routes' own paths, which then are the paths matched.
    """

    #: (how many routes it was built for, the union; None when a route has no path
    #: expression, so that FastAPI decides everything for this router)
    _screen: tuple[int, re.Pattern[str] | None] | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FastAPI's matching, after a one-expression test that any route could match."""
        if scope["type"] in ("http", "websocket") and not self._could_match(scope):
            return Match.NONE, {}
        return super().matches(scope)

    def _could_match(self, scope: Scope) -> bool:
        screen = self._screen
        if screen is None or screen[0] != len(self.routes):
            # routes are added at import time: built again only if that ever changes
            screen = (len(self.routes), _union(self.routes))
            self._screen = screen
        union = screen[1]
        return union is None or union.match(get_route_path(scope)) is not None


def _union(routes: list[Any]) -> re.Pattern[str] | None:
    """One expression matching exactly the paths one of ``routes`` matches, or None if a
    route has no path expression. Each is Starlette's own (anchored, ``[^/]+`` per
    parameter), without its group names (a name may repeat across routes)."""
    patterns = [route.path_regex.pattern for route in routes if hasattr(route, "path_regex")]
    if len(patterns) != len(routes):
        return None
    return re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[^>]+>', '(?:', p)})" for p in patterns))
