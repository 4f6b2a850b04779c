"""Fixtures of the browser tests (``tests/browser/harness.py`` explains the set-up)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.values import Actor
from tests.browser.harness import Files, build_page, chromium, static_server
from tests.browser.live import BACKENDS, Live, PageFactory, live_coffre, open_page


@pytest.fixture(scope="session")
def page_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web page, built once per session from web/src."""
    return build_page(tmp_path_factory.mktemp("web-dist"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium (one per module; tests open their own contexts).

    Not one per session: Playwright's sync API keeps an asyncio loop running in this
    thread while it is open, and the modules a worker runs next (``asyncio.run`` in the
    upload tests) must find none.
    """
    with chromium() as launched:
        yield launched


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """Files handed to and received from the browser, for one test."""
    return Files(tmp_path)


@pytest.fixture
def harness(page_dir: Path, files: Files, browser: Any) -> Iterator[Any]:
    """A fresh page on the static harness server, the built modules importable; page
    errors and requests to other hosts fail the test."""
    with static_server(page_dir, files) as base:
        context = browser.new_context(base_url=base, accept_downloads=True)
        page = context.new_page()
        # an empty page of the same origin: the modules are imported by the test itself
        blank = page_dir / "harness.html"
        if not blank.exists():
            blank.write_text('<!doctype html><html lang="en"><title>harness</title></html>')
        page.goto(f"{base}/harness.html")
        try:
            yield page
        finally:
            context.close()


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path, page_dir: Path) -> Iterator[Live]:
    """A real Coffre over HTTP (uvicorn in this process) on one backend pairing,
    serving the page at /."""
    with live_coffre(request, request.param, tmp_path / "data", page_dir) as running:
        yield running


@pytest.fixture
def patient_page(browser: Any, live: Live) -> Iterator[PageFactory]:
    """Open the page as an actor in a fresh browser context (see ``open_page``)."""
    contexts: list[Any] = []

    def open_as(actor: Actor, view: str = "log") -> Any:
        page = open_page(browser, live, actor, view)
        contexts.append(page.context)
        return page

    yield open_as
    for context in contexts:
        context.close()
