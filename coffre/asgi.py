"""The ASGI factory uvicorn serves: ``uvicorn --factory coffre.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from coffre.bootstrap import Coffre, build
from coffre.keysources import log_legacy_warnings
from vault.settings import get_settings

#: where the embedded development OpenID provider is mounted
IDP_PATH = "/idp"


def compose(coffre: Coffre) -> FastAPI:
    """The HTTP API over ``coffre``, with the development OpenID provider mounted under
    ``/idp`` when it runs here (``api`` and ``idp`` know nothing of each other)."""
    app = create_app(coffre)  # configures logging
    if coffre.provider is not None:
        # imported only where the development provider runs (never in production)
        from idp.app import create_idp_app

        app.mount(IDP_PATH, create_idp_app(coffre.provider))
    return app


def create() -> FastAPI:
    """Build Coffre from the environment and wrap it in the HTTP API."""
    coffre = build(get_settings())
    if coffre.settings.embedded and coffre.exports is not None:
        # One server per data directory (``serve.lock``): an export another process
        # left queued or running died with it; it ends failed now, not when stale.
        coffre.exports.sweep(sole=True)
    app = compose(coffre)
    log_legacy_warnings(coffre.settings)
    return app
