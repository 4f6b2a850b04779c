"""The ASGI factory uvicorn serves: ``uvicorn --factory coffre.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from coffre.bootstrap import build
from coffre.keysources import log_legacy_warnings
from vault.settings import get_settings


def create() -> FastAPI:
    """Build Coffre from the environment and wrap it in the HTTP API."""
    coffre = build(get_settings())
    app = create_app(coffre)  # configures logging
    log_legacy_warnings(coffre.settings)
    return app
