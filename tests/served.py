"""A real ``coffre serve`` (uvicorn) in a subprocess, for tests that need real HTTP.

Shared by the CLI tests and the transfer scenarios: the server is started the way an
operator starts it, with its configuration in ``COFFRE_*`` variables.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(env: Mapping[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``coffre serve`` with ``env`` added to this process's environment.

    Yields the base URL and the process; output goes to ``log``. The server is
    terminated (and waited for) on exit.
    """
    port = free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COFFRE_") or k.startswith("COFFRE_TEST")
    }
    # Spaces open at once unless a test says otherwise: these servers are about HTTP.
    full_env["COFFRE_OPPOSITION_PERIOD"] = "PT0S"
    full_env.update(env)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "serve", "--port", str(port)],
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the health endpoint until it answers; fail with the server's log if not."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"coffre serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"coffre serve did not answer in {STARTUP_TIMEOUT} s:\n{log.read_text()}")
