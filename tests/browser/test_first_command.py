"""The README's first command, as a person uses it (issue 13's acceptance): run
`./scripts/serve` on a fresh data directory, open the URL it prints, log in as the demo's
patient at the development OpenID provider, and see her access log. No other step."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.served import free_port

ROOT = Path(__file__).resolve().parents[2]
#: the line of `scripts/serve` naming the URL to open
OPEN = re.compile(r"Open (http://\S+/) in a browser")


@pytest.fixture
def first_command(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """`./scripts/serve --port P` on a fresh data directory; the URL it prints and
    every line it printed (read in a thread so the pipe never fills)."""
    env = {n: v for n, v in os.environ.items() if not n.startswith("COFFRE_")}  # defaults
    # its own data and page directories: tests beside it serve the repository's web/dist
    env |= {"COFFRE_DATA_DIR": str(tmp_path / "coffre"), "COFFRE_WEB_DIR": str(tmp_path / "web")}
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "serve"), "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if match := OPEN.search(line):
                url.append(match.group(1))
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # first build of the page, the server's start and the demo's story
        deadline = time.monotonic() + 300
        while not found.wait(1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("scripts/serve printed no URL:\n" + "".join(lines[-40:]))
        yield url[0], lines
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_first_command_then_its_url_logs_the_demo_patient_in(
    first_command: tuple[str, list[str]], browser: Any
) -> None:
    url, _ = first_command
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("link", name="Se connecter").click()
        # the development provider's page: the demo's patient is the first choice
        page.get_by_role("button", name="Se connecter et autoriser").click()
        page.wait_for_url(url)
        page.get_by_text("Connecté : Camille Dupont").wait_for()
        log = page.get_by_role("table", name="Journal des accès")
        log.get_by_text("Dr Alice Martin").first.wait_for()
        assert log.get_by_text("Refusé").count() >= 1  # the demo's refused read is there
    finally:
        context.close()
