"""Chromium driven through the DevTools protocol alone, for the memory measurements.

Playwright enables the protocol's Network domain on every page it drives, and with it
Chromium serialises each request body into the ``requestWillBeSent`` notification (no
size limit by default): a 16 MiB part PUT becomes tens of MiB of strings in the
renderer and the browser process, and seconds of work. A user's browser does none of
that, so the memory test drives Chromium itself, with only the Runtime, Page, DOM,
Performance and HeapProfiler domains (none of which keeps request or response bodies).
"""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.browser.harness import CHROMIUM, require

#: the ports this test may listen on (the worktree's range)
PORTS = range(18040, 18100)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for Chromium's DevTools endpoint")


class Page:
    """One page target over a flattened DevTools session."""

    def __init__(self, ws: Any, session: str) -> None:
        self._ws = ws
        self._session = session
        self._ids = itertools.count(1)

    def send(self, method: str, params: dict[str, Any] | None = None, browser: bool = False) -> Any:
        """Call ``method`` (on the browser target when ``browser``); its result.
        Notifications arriving meanwhile are dropped: no domain that sends them is on."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        while True:
            answer = json.loads(self._ws.recv(timeout=600))
            if answer.get("id") == number:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JS expression (awaited when it is a promise)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, condition: str, timeout: float = 60) -> None:
        """Poll a JS condition until it is true."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise AssertionError(f"never true: {condition}")
            time.sleep(0.3)

    def wait_text(self, text: str, timeout: float = 60) -> None:
        """Wait until the page's text contains ``text``."""
        self.wait(f"document.body && document.body.innerText.includes({json.dumps(text)})", timeout)

    def goto(self, url: str) -> None:
        """Navigate and wait for the page to say it is ready."""
        self.send("Page.navigate", {"url": url})
        time.sleep(0.3)
        self.wait("document.body && document.body.dataset.ready === 'true'")

    def set_files(self, selector: str, path: Path) -> None:
        """Choose ``path`` in the file input at ``selector`` (a local path: no bytes go
        through the protocol)."""
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        self.send("DOM.setFileInputFiles", {"nodeId": node, "files": [str(path)]})


@contextmanager
def chromium_page(profile: Path) -> Iterator[Page]:
    """Debian's headless Chromium on a profile of its own (a user's: not off the record,
    so Blobs and origin-private files go to disk), and its one page."""
    require(Path(CHROMIUM).exists(), f"Chromium ({CHROMIUM})")
    port = _free_port()
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--no-first-run",
            "--disable-gpu",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--lang=fr-FR",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version") as answer:
                    endpoint = json.load(answer)["webSocketDebuggerUrl"]
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Chromium's DevTools endpoint never answered") from None
                time.sleep(0.3)
        with connect(endpoint, max_size=None, open_timeout=60) as ws:
            bootstrap = Page(ws, "")
            targets = bootstrap.send("Target.getTargets", browser=True)["targetInfos"]
            target = next(t["targetId"] for t in targets if t["type"] == "page")
            session = bootstrap.send(
                "Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True
            )["sessionId"]
            yield Page(ws, session)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
