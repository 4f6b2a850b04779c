"""The FastAPI application: routers, problem handlers, logging, projections lifespan.

``create_app`` takes already-built services (see ``api.deps.Services``); it builds
nothing itself, so the CLI, the ASGI factory and the tests share one composition root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import problems
from api.deps import Services
from api.logging import RequestContext, configure_logging
from api.middleware import BODY_METHODS, BodyLimit, SecurityHeaders
from api.routers import (
    access_log,
    access_views,
    blocks,
    confidentiality,
    devices,
    documents,
    emergency,
    grants,
    health,
    life,
    notifications,
    reads,
    representatives,
    trail,
)
from api.scopes import declare_security, operation_id

log = structlog.get_logger(__name__)

#: how long shutdown waits for the projection thread to finish its batch
PROJECTIONS_STOP_TIMEOUT = 10.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the projections in a thread of this process when the settings say so."""
    services: Services = app.state.services
    if not services.settings.run_projections_in_process:
        yield
        return
    thread, stop = services.runner.start_thread()
    log.info("projections_started")
    try:
        yield
    finally:
        stop.set()
        await anyio.to_thread.run_sync(thread.join, PROJECTIONS_STOP_TIMEOUT)
        log.info("projections_stopped")


def create_app(services: Services) -> FastAPI:
    """The HTTP API over ``services`` (a ``coffre.bootstrap.Coffre`` or a test double)."""
    configure_logging(services.settings.log_format)
    app = FastAPI(
        title="Coffre",
        version="1",
        summary="An event-sourced secure vault for health documents.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.services = services
    # One router per concept (the same names as ``vault``'s use cases).
    for module in (
        health,
        life,
        documents,
        devices,
        reads,
        grants,
        confidentiality,
        blocks,
        representatives,
        emergency,
        access_log,
        access_views,
        notifications,
        trail,
    ):
        app.include_router(module.router)
    problems.install(app)
    # Last added runs first: the request context wraps everything, even a 413.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    # Every error answer is problem+json: replace FastAPI's default 422 schema too.
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        _declare_body_limit(schema)
        declare_security(schema, *_identity_urls(app))
        for operation in _operations(schema):
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {problems.MEDIA_TYPE: {"schema": problem_ref}}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema


def _identity_urls(app: FastAPI) -> tuple[str, str]:
    # The first configured OpenID provider's discovery document and token endpoint;
    # without one, where the embedded development provider serves them (``/idp``,
    # mounted by the composition root).
    issuers = getattr(app.state.services.settings, "oidc_issuers", None) or []
    if issuers:
        return issuers[0].discovery, issuers[0].token_url or "/idp/token"
    return "/idp/.well-known/openid-configuration", "/idp/token"


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path in schema.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict)
    ]


def _declare_body_limit(schema: dict[str, Any]) -> None:
    # BodyLimit answers 413 on any operation that takes a body or whose method carries
    # one, before the route runs: the document says so wherever it can happen.
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict):
                continue
            if method.upper() in BODY_METHODS or "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault(
                    "413", {"description": "body-too-large"}
                )
