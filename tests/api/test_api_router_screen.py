"""``api.routers.common.Router``'s screen: a router that says "no match" at once must
never hide one of its routes, nor let a path reach a router that has no route for it."""

from __future__ import annotations

import re
import uuid

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


def test_the_screen_changes_no_match_under_any_root_path(app: FastAPI) -> None:
    # For every route's path and method, under the app's root or a proxy's prefix, each
    # included router answers exactly what FastAPI's own matching answers unscreened.
    for root_path in ("", "/coffre"):
        for owner in _routers(app):
            for route in owner.routes:
                assert isinstance(route, APIRoute)
                scope = _scope(app, _sample_path(route), sorted(route.methods)[0], root_path)
                assert owner._could_match(scope), (root_path, route.path)
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
                    assert screened == unscreened, (root_path, route.path, router.prefix)
                    if router is owner:
                        assert screened is Match.FULL, (root_path, route.path)


def test_a_path_no_route_has_is_screened_out_by_every_router(app: FastAPI) -> None:
    scope = _scope(app, "/v1/no-such-thing/at-all", "GET")
    for router in _routers(app):
        assert not router._could_match(scope)
        assert router.matches(scope) == (Match.NONE, {})


def test_each_route_answers_through_http_not_404(client: TestClient) -> None:
    # The request itself, end to end: a 404 of "no route" is problem+json of type
    # not-found with no detail of ours; every route exists, so none answers it.
    app = client.app
    for router in _routers(app):
        for route in router.routes:
            method = sorted(route.methods)[0]
            if route.path_format.startswith("/auth") or route.path_format == "/":
                continue  # the web session routes redirect; the page is a file
            answer = client.request(method, _sample_path(route))
            assert answer.status_code != 405, route.path_format
            if answer.status_code == 404:
                # a known route's own 404 (unknown space, document...), never "no route"
                assert answer.json().get("type", "").endswith(
                    ("unknown-space", "unknown-document", "not-found", "unknown-key")
                ) and answer.json().get("detail"), (route.path_format, answer.text)
