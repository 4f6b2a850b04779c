"""A real Coffre over HTTP for the page tests, and the page opened in it as an actor.

Coffre runs in this process (uvicorn in a thread, the real composition root and app),
so the test holds the token issuer and drives the other actors with the Python SDK.
The browser holds a real web session of the backend-for-frontend (an HttpOnly cookie;
its changes carry the CSRF token), made as the login's callback makes it, from a token
of the embedded issuer: the identity provider's login page is not what these tests are
about.
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
from api.deps import SESSION_COOKIE
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor
from tests.scenarios.conftest import BACKENDS, backend_settings
from tests.served import free_port
from vault.settings import DEMO_REGISTRY
from vault.web_login import Tokens

__all__ = ["BACKENDS", "Live", "PageFactory", "live_coffre", "open_page"]


@dataclass
class Live:
    """A running Coffre: its URL, its parts, and SDK clients opened on it."""

    url: str
    coffre: Coffre
    clients: list[CoffreClient] = field(default_factory=list)
    #: every URL the browser asked for, to check that none leaves for another host
    requests: list[str] = field(default_factory=list)
    #: the headers the page itself was served with (the last page opened)
    page_headers: dict[str, str] = field(default_factory=dict)

    @property
    def hosts(self) -> set[str]:
        """Where the page may send requests: Coffre, and with S3 the storage's endpoint
        (the presigned transfers its CSP and the bucket's CORS allow)."""
        storage = self.coffre.settings.s3_browser_origin
        return {urlsplit(self.url).netloc} | ({urlsplit(storage).netloc} if storage else set())

    def token(self, actor: Actor) -> str:
        """A token for ``actor`` from the embedded issuer."""
        return self.coffre.tokens.mint(actor, timedelta(minutes=30))

    def session(self, actor: Actor) -> str:
        """A web session for ``actor`` (what ``/auth/callback`` makes after a login);
        the cookie's value."""
        token = self.token(actor)
        principal = self.coffre.issuers.authenticate(token)
        tokens = Tokens(access_token=token, expires_at=time.time() + 1800)
        return self.coffre.web_sessions.create(principal, tokens)

    def client(self, actor: Actor) -> CoffreClient:
        """An SDK client for ``actor`` with a fresh device key (not yet enrolled)."""
        opened = CoffreClient(self.url, self.token(actor), reader_key=ReaderKey.generate())
        self.clients.append(opened)
        return opened


PageFactory = Callable[..., Any]


@contextmanager
def live_coffre(
    request: pytest.FixtureRequest,
    backend: str,
    data_dir: Path,
    page_dir: Path,
    opposition_period: timedelta = timedelta(0),
) -> Iterator[Live]:
    """Build Coffre on ``backend``, serving the page built in ``page_dir``, on a free
    port until the block ends. Spaces open at once unless an ``opposition_period`` is
    given (the page's opposition window)."""
    port = free_port()
    settings = backend_settings(request, backend, data_dir).model_copy(
        # With S3 the page reads and deposits through presigned URLs (the bucket's
        # CORS allows this origin, set by build).
        update={
            "opposition_period": opposition_period,
            "registry_services": DEMO_REGISTRY,  # appoints legal representatives
            "projections_in_process": True,  # the access log follows in this process
            "web_dir": page_dir,
            # the origin the session's changes must come from
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    coffre = build(settings)
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


def open_page(browser: Any, live: Live, actor: Actor | None, view: str = "log") -> Any:
    """A new browser context logged in as ``actor`` (a web session of the
    backend-for-frontend, its cookie set as the login's callback sets it), on the
    page's ``view``, ready (``None``: nobody logged in). Every request is logged, and
    any for another host refused."""
    context = browser.new_context(base_url=live.url, accept_downloads=True, locale="fr-FR")
    # the fallback the tests check: a Blob offered as a download once verified (the
    # File System Access picker is a native dialog no test can answer)
    context.add_init_script("delete window.showSaveFilePicker;")
    if actor is not None:
        context.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": live.session(actor),
                    "domain": "127.0.0.1",
                    "path": "/",
                    "secure": True,
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
    hosts = live.hosts

    def route(handled: Any) -> None:
        live.requests.append(handled.request.url)
        if urlsplit(handled.request.url).netloc not in hosts:
            handled.abort()  # nothing may leave for another host
        else:
            handled.continue_()

    context.route("**/*", route)
    page = context.new_page()
    answer = page.goto(f"{live.url}/#{view}")
    live.page_headers = answer.all_headers() if answer is not None else {}
    page.wait_for_selector("body[data-ready=true]")
    return page
