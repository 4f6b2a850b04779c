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
from api.deps import Services, origin_of
from api.logging import RequestContext, configure_logging
from api.middleware import BODY_METHODS, BodyLimit, SecurityHeaders, content_security_policy
from api.routers import (
    access_log,
    access_views,
    blocks,
    confidentiality,
    devices,
    documents,
    emergency,
    exports,
    fhir,
    grants,
    health,
    life,
    notifications,
    reads,
    representatives,
    sessions,
    trail,
    web,
)
from api.scopes import declare_security, operation_id
from wire.mhd import FHIR_JSON

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
        # Swagger UI comes from vendored files (api.routers.web), never from a CDN
        docs_url=None,
        redoc_url=None,
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
        fhir,
        exports,
        sessions,
        web,
    ):
        app.include_router(module.router)
    files = web.static_fallback(web.web_dir(services))
    if files is not None:
        app.router.default = files  # paths no route matches: the page's files
    problems.install(app)
    # Last added runs first: the request context wraps everything, even a 413.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, policy=_policy(services), https_only=_https(services))
    app.add_middleware(RequestContext)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _policy(services: Services) -> str:
    # the page may talk to S3 (presigned transfers) and post to its identity provider
    settings = services.settings
    connect = getattr(settings, "s3_browser_origin", None)
    issuer = getattr(settings, "web_login_issuer", None)
    forms = [origin_of(issuer)] if issuer else []
    return content_security_policy([connect] if connect else [], forms)


def _https(services: Services) -> bool:
    # behind a proxy ending TLS the request looks like http: the public URL says https
    return str(getattr(services.settings, "base_url", "")).startswith("https://")


def _openapi(app: FastAPI) -> dict[str, Any]:
    # Every error answer is problem+json: replace FastAPI's default 422 schema too.
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        _declare_body_limit(schema)
        declare_security(schema, *_identity_urls(app))
        outcome = {FHIR_JSON: {"schema": {"type": "object", "title": "OperationOutcome"}}}
        for path, operation in _operations(schema):
            # under /fhir the same problems are OperationOutcomes (``api.problems``)
            content = outcome if path.startswith(problems.FHIR_PREFIX) else None
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = content or {problems.MEDIA_TYPE: {"schema": problem_ref}}
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


def _operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, operation)
        for path, operations in schema.get("paths", {}).items()
        for operation in operations.values()
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
