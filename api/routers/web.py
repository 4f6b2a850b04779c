"""The web page and the API's documentation, served from this server's own files.

``/`` is the page built into ``COFFRE_WEB_DIR`` (``scripts/build-web``), ``/docs``
Swagger UI vendored into its ``docs/`` folder: no CDN, so both work offline and under
the Content-Security-Policy of ``api.middleware``. Before the build, both answer a
short page saying how to build. Every other file of the directory is served for paths
no route claims (``static_fallback``), so the API's own 404s and 405s are unchanged.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from api.deps import ServicesDep
from api.routers.common import Router

router = Router(tags=["web"], include_in_schema=False)

#: what ``/`` and ``/docs`` answer before ``scripts/build-web`` has run
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Coffre</title></head>
<body><h1>Coffre</h1>
<p>The API is running. The web page and the API documentation are not built yet:
run <code>./scripts/build-web</code> (it needs <code>npm</code>), then reload.</p>
<p>The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
"""


def web_dir(services: object) -> Path:
    """The directory the page is served from (``COFFRE_WEB_DIR``)."""
    settings = getattr(services, "settings", None)
    return Path(getattr(settings, "web_dir", "web/dist"))


def _page(path: Path) -> Response:
    if path.is_file():
        return FileResponse(path, media_type="text/html")
    return HTMLResponse(NOT_BUILT)


@router.get("/", name="page")
def page(services: ServicesDep) -> Response:
    """The web page."""
    return _page(web_dir(services) / "index.html")


@router.get("/docs", name="docs")
def docs(services: ServicesDep) -> Response:
    """Swagger UI over ``/openapi.json``, from vendored files."""
    return _page(web_dir(services) / "docs" / "index.html")


def static_fallback(directory: Path) -> ASGIApp | None:
    """The files of ``directory``, for the router's ``default`` (paths no route
    matched); ``None`` when the page is not built."""
    if not directory.is_dir():
        return None
    return StaticFiles(directory=directory, html=True)
