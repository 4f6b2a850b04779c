"""A real Coffre over HTTP for the page tests, and the page opened in it as an actor.

Coffre runs in this process (uvicorn in a thread, the real composition root and app),
so the test holds the token issuer and drives the other actors with the Python SDK.
The browser signs in by a bearer token the test adds to its requests to Coffre's
origin only (never to another host): until the cookie session of the identity issue
is in, that stands for the login.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from api.app import create_app
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor
from tests.browser.harness import CSP
from tests.scenarios.conftest import BACKENDS, backend_settings
from tests.served import free_port

__all__ = ["BACKENDS", "Live", "PageFactory", "live_coffre", "open_page"]

#: the page's own files, served from the built directory while the server has no
#: static route of its own
PAGE_FILES = ("/", "/index.html", "/style.css", "/favicon.ico")


@dataclass
class Live:
    """A running Coffre: its URL, its parts, and SDK clients opened on it."""

    url: str
    coffre: Coffre
    clients: list[CoffreClient] = field(default_factory=list)
    #: every URL the browser asked for, to check that none leaves for another host
    requests: list[str] = field(default_factory=list)

    def token(self, actor: Actor) -> str:
        """A token for ``actor`` from the embedded issuer."""
        return self.coffre.tokens.mint(actor, timedelta(minutes=30))

    def client(self, actor: Actor) -> CoffreClient:
        """An SDK client for ``actor`` with a fresh device key (not yet enrolled)."""
        opened = CoffreClient(self.url, self.token(actor), reader_key=ReaderKey.generate())
        self.clients.append(opened)
        return opened


PageFactory = Callable[..., Any]


@contextmanager
def live_coffre(request: pytest.FixtureRequest, backend: str, data_dir: Path) -> Iterator[Live]:
    """Build Coffre on ``backend`` and serve it on a free port until the block ends."""
    settings = backend_settings(request, backend, data_dir).model_copy(
        # Spaces open at once; reads go through Coffre's content route, not presigned
        # S3 URLs, which a browser could fetch only with CORS on the bucket.
        update={
            "opposition_period": timedelta(0),
            "s3_presign": False,
            "projections_in_process": True,  # the access log follows in this process
        }
    )
    coffre = build(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(coffre), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test's Coffre did not start")
        time.sleep(0.05)
    live = Live(f"http://127.0.0.1:{port}", coffre)
    try:
        yield live
    finally:
        for client in live.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=15)
        coffre.close()


def open_page(browser: Any, page_dir: Path, live: Live, actor: Actor, view: str = "log") -> Any:
    """A new browser context signed in as ``actor``, on the page's ``view``, ready."""
    context = browser.new_context(base_url=live.url, accept_downloads=True, locale="fr-FR")
    # the fallback the tests check: a Blob offered as a download once verified (the
    # File System Access picker is a native dialog no test can answer)
    context.add_init_script("delete window.showSaveFilePicker;")
    token = live.token(actor)
    origin = urlsplit(live.url).netloc

    def route(handled: Any) -> None:
        request = handled.request
        live.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.netloc != origin:
            handled.abort()  # nothing may leave for another host
            return
        if parts.path in PAGE_FILES or (
            parts.path.endswith(".js") and not parts.path.startswith("/v1/")
        ):
            name = "index.html" if parts.path == "/" else parts.path.lstrip("/")
            target = page_dir / name
            if not target.is_file():
                handled.fulfill(status=404)
                return
            kind = {"html": "text/html", "css": "text/css", "js": "text/javascript"}
            handled.fulfill(
                status=200,
                body=target.read_bytes(),
                headers={
                    "Content-Type": kind.get(target.suffix.lstrip("."), "text/plain"),
                    "Content-Security-Policy": CSP,
                    "X-Content-Type-Options": "nosniff",
                },
            )
            return
        handled.continue_(headers={**request.headers, "authorization": f"Bearer {token}"})

    context.route("**/*", route)
    page = context.new_page()
    page.goto(f"{live.url}/#{view}")
    page.wait_for_selector("body[data-ready=true]")
    return page
