"""The ASGI factory uvicorn serves: ``uvicorn --factory coffre.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from coffre.bootstrap import build
from vault.settings import get_settings


def create() -> FastAPI:
    """Build Coffre from the environment and wrap it in the HTTP API."""
    coffre = build(get_settings())
    return create_app(coffre)
