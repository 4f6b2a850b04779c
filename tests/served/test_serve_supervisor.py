"""``coffre serve --workers N`` under uvicorn's supervisor, which pings each worker every
0.5 s and kills one that leaves the ping unanswered too long, its requests in flight lost.

uvicorn's own limit (5 s) is missed by a healthy worker starved of CPU on a loaded
machine: in a clean-clone CI run (2026-12-05), a quick soak's worker was replaced as the
soak began. Coffre gives workers ``COFFRE_WORKER_HEALTHCHECK_TIMEOUT`` (30 s); a worker
silent for longer is still replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bench.soak_report import children, is_helper
from tests.faults.harness import base_env, s3_env
from tests.served import scratch_bucket, scratch_database, serve
from vault.tokens import TokenAuthority

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

#: tokens come from elsewhere, so several workers are allowed (no in-memory provider)
EXTERNAL_KEY = TokenAuthority.from_seed("coffre", bytes(32)).public_key_b64


def _workers(master: int) -> list[int]:
    """The master's children but multiprocessing's resource tracker."""
    return [pid for pid in children(master) if not is_helper(pid)]


@contextmanager
def _two_workers(
    pg_server: str, s3_server: dict[str, str], tmp_path: Path, **settings: str
) -> Iterator[tuple[str, int, Path]]:
    """A two-worker server on a scratch database and bucket: URL, master pid, log."""
    with (
        scratch_database(pg_server, "coffre_supervisor") as pg,
        scratch_bucket(s3_server, "coffre-supervisor") as bucket,
    ):
        env = base_env(tmp_path / "data") | s3_env(pg, s3_server, bucket)
        env |= {"COFFRE_WORKERS": "2", "COFFRE_TOKEN_PUBLIC_KEY": EXTERNAL_KEY, **settings}
        log = tmp_path / "serve.log"
        with serve(env, log) as (url, process):
            deadline = time.monotonic() + 60
            while len(_workers(process.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            yield url, process.pid, log


def _silence(pid: int, seconds: float) -> None:
    """Stop ``pid`` for ``seconds`` (its answer to the ping is delayed as long)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        # the supervisor may have killed it meanwhile
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def test_a_worker_silent_longer_than_uvicorn_s_5_s_keeps_serving(
    pg_server: str, s3_server: dict[str, str], tmp_path: Path
) -> None:
    with _two_workers(pg_server, s3_server, tmp_path) as (url, master, log):
        before = _workers(master)
        assert len(before) == 2
        _silence(before[0], 8.0)
        time.sleep(2.0)  # several rounds of the supervisor's pings
        assert _workers(master) == before, log.read_text()
        for _ in range(10):
            assert httpx.get(f"{url}/v1/health", timeout=10).status_code == 200
        assert "died" not in log.read_text()


def test_a_worker_silent_beyond_the_setting_is_replaced(
    pg_server: str, s3_server: dict[str, str], tmp_path: Path
) -> None:
    settings = {"COFFRE_WORKER_HEALTHCHECK_TIMEOUT": "2"}
    with _two_workers(pg_server, s3_server, tmp_path, **settings) as (url, master, log):
        before = _workers(master)
        _silence(before[0], 5.0)
        deadline = time.monotonic() + 60
        while before[0] in _workers(master) and time.monotonic() < deadline:
            time.sleep(0.2)
        after = _workers(master)
        assert before[0] not in after and before[1] in after
        assert f"Child process [{before[0]}] died" in log.read_text()
        assert httpx.get(f"{url}/v1/health", timeout=10).status_code == 200


def test_a_worker_that_crashes_leaves_its_stack_in_the_log(
    pg_server: str, s3_server: dict[str, str], tmp_path: Path
) -> None:
    # A crash in a C extension kills a worker with a fatal signal: without Python's fault
    # handler, the log would say only that it died, not where.
    with _two_workers(pg_server, s3_server, tmp_path) as (url, master, log):
        before = _workers(master)
        os.kill(before[0], signal.SIGSEGV)
        died = f"Child process [{before[0]}] died"
        deadline = time.monotonic() + 60
        while died not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        said = log.read_text()
        assert "Fatal Python error: Segmentation fault" in said
        assert "most recent call first" in said
        assert died in said
        assert before[1] in _workers(master)
        assert httpx.get(f"{url}/v1/health", timeout=10).status_code == 200
