"""``api.routers.common.Router``'s screen: a router that says "no match" at once must
never hide one of its routes, nor let a path reach a router that has no route for it."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Match

from api.routers.common import Router


def _sample_path(route: APIRoute) -> str:
    # every parameter as a value its convertor takes (all are plain strings here)
    return re.sub(r"\{[^}]+\}", lambda _: uuid.uuid4().hex[:12], route.path_format)


def _routers(app: FastAPI) -> list[Router]:
    found = [getattr(r, "original_router", None) for r in app.router.routes]
    return [r for r in found if isinstance(r, Router)]


def _scope(app: FastAPI, path: str, method: str, root_path: str = "") -> dict[str, object]:
    return {
        "type": "http",
        "method": method,
        "path": root_path + path,
        "root_path": root_path,
        "headers": [],
        "query_string": b"",
        "app": app,
    }


def test_every_router_of_the_app_is_screened(app: FastAPI) -> None:
    included = [r for r in app.router.routes if hasattr(r, "original_router")]
    assert included and len(_routers(app)) == len(included)


#: paths a careless or hostile client sends: each router must answer them exactly as
#: FastAPI's own matching does (``$`` matches before a trailing newline in both)
ODD_PATHS = (
    "",
    "/",
    "//",
    "/v1/health\n",
    "/v1/health/",
    "/v1/spaces/\u00e9\u0301\U0001f600/documents",
    "/v1/spaces/\x00/key",
    "/v1/spaces/a/b/c/d/e/f/g/h",
    "/v1/spaces/" + "9" * 100_000 + "/documents",
    "/fhir/" + "DocumentReference/" * 2_000,
)


def _assert_screen_changes_nothing(app: FastAPI, scope: dict[str, object]) -> dict[int, Match]:
    """Each included router's answer for ``scope`` (by ``id``), checked equal to its
    unscreened one."""
    answers = {}
    for included in app.router.routes:
        router = getattr(included, "original_router", None)
        if not isinstance(router, Router):
            continue
        screened, _ = included.matches(dict(scope))
        router._could_match = lambda _scope: True  # type: ignore[method-assign]
        try:
            unscreened, _ = included.matches(dict(scope))
        finally:
            del router._could_match
        assert screened == unscreened, (scope["path"], router.prefix)
        answers[id(router)] = screened
    return answers


def test_the_screen_changes_no_match_under_any_root_path(app: FastAPI) -> None:
    # For every route's path and method, under the app's root or a proxy's prefix, each
    # included router answers exactly what FastAPI's own matching answers unscreened.
    for root_path in ("", "/coffre"):
        for owner in _routers(app):
            for route in owner.routes:
                assert isinstance(route, APIRoute)
                scope = _scope(app, _sample_path(route), sorted(route.methods)[0], root_path)
                assert owner._could_match(scope), (root_path, route.path)
                answers = _assert_screen_changes_nothing(app, scope)
                assert answers[id(owner)] is Match.FULL, (root_path, route.path)


@pytest.mark.parametrize("path", ODD_PATHS, ids=range(len(ODD_PATHS)))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_odd_paths_match_as_they_would_unscreened(app: FastAPI, path: str, method: str) -> None:
    _assert_screen_changes_nothing(app, _scope(app, path, method))


def test_a_path_no_route_has_is_screened_out_by_every_router(app: FastAPI) -> None:
    scope = _scope(app, "/v1/no-such-thing/at-all", "GET")
    for router in _routers(app):
        assert not router._could_match(scope)
        assert router.matches(scope) == (Match.NONE, {})


def test_each_route_answers_through_http_not_as_no_route(client: TestClient) -> None:
    # The request itself, end to end: no route's answer is the app's "no such route".
    no_route = client.get("/v1/no-such-thing/at-all")
    assert no_route.status_code == 404
    for router in _routers(client.app):
        for route in router.routes:
            if route.path_format.startswith("/auth") or route.path_format == "/":
                continue  # the web session routes redirect; the page is a file
            answer = client.request(sorted(route.methods)[0], _sample_path(route))
            assert answer.status_code != 405, route.path_format
            if answer.status_code == 404:
                # a known route's own 404 (unknown space, document...), never "no route"
                assert answer.json().get("detail") != no_route.json()["detail"], (
                    route.path_format,
                    answer.text,
                )
