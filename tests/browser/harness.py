"""What the browser tests share: Debian's Chromium driven by Playwright, the page
built from ``web/`` into a temporary directory, and a small static server for the
envelope tests (the built page's modules plus files the test hands to the browser and
receives from it), sending the CSP the server sends.

Playwright's Python wheel carries its driver; no browser is ever downloaded: the tests
launch ``/usr/bin/chromium`` (``apt-get install chromium``, which ``scripts/test``
does). Without it, or without node to build the page, the tests skip, and fail under
``CI``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from api.middleware import content_security_policy
from tests.local_http import local_server

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = os.environ.get("COFFRE_TEST_CHROMIUM", "/usr/bin/chromium")

#: the policy the server sends with the page (its WebAssembly needs 'wasm-unsafe-eval')
CSP = content_security_policy()


def require(available: bool, what: str) -> None:
    """Skip without ``what``; under ``CI`` its absence is a failure."""
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing, and CI requires it")
        pytest.skip(f"{what} is missing")


def build_page(out: Path) -> Path:
    """Build the web page into ``out`` (``npm ci`` first when web/node_modules is absent)."""
    require(shutil.which("node") is not None and shutil.which("npm") is not None, "node/npm")
    if not (WEB / "node_modules" / "libsodium-wrappers").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=WEB,
            check=True,
            stdin=subprocess.DEVNULL,
        )
    subprocess.run(["node", "build.mjs", str(out)], cwd=WEB, check=True, stdin=subprocess.DEVNULL)
    return out


class Files:
    """Files the harness serves to the browser (``/t/blob/NAME``) and files the browser
    appends to (``POST /t/sink/NAME``), in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.served: dict[str, Path] = {}

    def serve(self, name: str, path: Path) -> str:
        """Make ``path`` available at the returned URL path."""
        self.served[name] = path
        return f"/t/blob/{name}"

    def sink(self, name: str) -> tuple[str, Path]:
        """A new empty file the browser appends to by POSTing pieces in order."""
        path = self.directory / f"sink-{name}"
        path.write_bytes(b"")
        return f"/t/sink/{name}", path


def _handler(root: Path, files: Files) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def end_headers(self) -> None:
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:
            if self.path.startswith("/t/blob/"):
                path = files.served.get(unquote(self.path[len("/t/blob/") :]))
                if path is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(path.stat().st_size))
                self.end_headers()
                with path.open("rb") as source:
                    while piece := source.read(1 << 20):
                        self.wfile.write(piece)
                return
            super().do_GET()

        def do_POST(self) -> None:
            if not self.path.startswith("/t/sink/"):
                self.send_error(404)
                return
            target = files.directory / f"sink-{unquote(self.path[len('/t/sink/') :])}"
            left = int(self.headers.get("Content-Length", "0"))
            with target.open("ab") as out:
                while left:
                    piece = self.rfile.read(min(left, 1 << 20))
                    if not piece:
                        break
                    out.write(piece)
                    left -= len(piece)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: pytest shows failures, not every request

    return Handler


@contextmanager
def static_server(root: Path, files: Files) -> Iterator[str]:
    """Serve ``root`` and the test routes on a free loopback port; yields the base URL."""
    with local_server(_handler(root, files)) as url:
        yield url


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium from Debian's package, driven by Playwright."""
    require(Path(CHROMIUM).exists(), f"Chromium ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def hex_of(data: bytes) -> str:
    """Hex, the form bytes cross the Playwright bridge in."""
    return data.hex()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _kind(pid: int) -> str | None:
    """What a Chromium process is, from its command line (``--type=``), or None when
    ``pid`` is not Chromium's."""
    proc = Path("/proc") / str(pid)
    if "chrom" not in (proc / "comm").read_text():
        return None
    # Chromium's children retitle themselves: their arguments in one space-separated string
    args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").split()
    kind = next((a[7:].decode() for a in args if a.startswith(b"--type=")), "browser")
    if kind == "utility":
        sub = next((a.decode() for a in args if a.startswith(b"--utility-sub-type=")), "")
        return "network" if "NetworkService" in sub else "utility"
    return {"gpu-process": "gpu"}.get(kind, kind)


def browser_rss_by_kind() -> dict[str, int]:
    """Resident bytes of the Chromium processes this test process started (itself or
    through Playwright's driver), as the kernel counts them, summed by kind: ``browser``,
    ``renderer``, ``gpu``, ``network`` (the network service), ``utility``, ``zygote``."""
    kinds: dict[str, int] = {}
    for pid in _descendants(os.getpid()):
        try:
            kind = _kind(pid)
            if kind is None:
                continue
            for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kinds[kind] = kinds.get(kind, 0) + int(line.split()[1]) * 1024
        except OSError:
            continue  # gone meanwhile
    return kinds


def browser_rss() -> int:
    """Resident bytes of every Chromium process this test process started."""
    return sum(browser_rss_by_kind().values())


@contextmanager
def peak_growth(interval: float = 0.2) -> Iterator[dict[str, Any]]:
    """Sample the Chromium processes' resident memory in a thread while the block runs.
    The result's ``growth`` is the peak of their sum minus its level before the block;
    ``kinds`` the same for each kind of process on its own (each at its own peak)."""
    start = browser_rss_by_kind()
    result: dict[str, Any] = {"before": sum(start.values()), "peak": 0, "growth": 0}
    peaks = dict(start)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            now = browser_rss_by_kind()
            result["peak"] = max(result["peak"], sum(now.values()))
            for kind, rss in now.items():
                peaks[kind] = max(peaks.get(kind, 0), rss)
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        stop.set()
        sampler.join()
        result["growth"] = max(0, result["peak"] - result["before"])
        result["kinds"] = {k: max(0, peaks[k] - start.get(k, 0)) for k in sorted(peaks)}
