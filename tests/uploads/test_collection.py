"""Issue 9, item 10: what interrupted uploads leave is collected, on its own.

A put interrupted midway leaves a temporary file (file store) or an incomplete
multipart upload (S3); a blob uploaded but never deposited is an orphan. The blob
collector removes both once they are older than their grace period, never a put still
in progress, and runs by itself: in ``coffre scheduler run`` and in the housekeeping
of the projection workers (the embedded server's included).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coffre.bootstrap import Coffre, build
from tests.scenarios.conftest import BACKENDS, backend_settings, deposit, open_space
from tests.served import serve
from tests.uploads.helpers import (
    HOSPITAL,
    MIB,
    PATIENT,
    Running,
    envelope_prefix,
    open_upload,
    partial_blobs,
    running,
    wait_for,
)
from vault.blobstore import new_name
from vault.clock import ManualClock
from vault.scheduler import BlobCollector

#: short enough for a test to wait it out, long enough to tell old from fresh
TEMPORARY_GRACE = timedelta(seconds=2)


@pytest.fixture(params=BACKENDS)
def coffre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Coffre]:
    """A Coffre on one backend pairing, collecting temporaries after two seconds."""
    settings = backend_settings(request, request.param, tmp_path / "data").model_copy(
        # direct uploads off: they would need a grace of their lifetime (an hour)
        update={"blob_temporary_grace": TEMPORARY_GRACE, "s3_direct_uploads": False}
    )
    built = build(settings, clock=ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)))
    try:
        yield built
    finally:
        built.close()


class _HeldPut:
    """A put in a thread that sends ``size`` bytes, then waits to be released."""

    def __init__(self, coffre: Coffre, size: int) -> None:
        self.name = new_name()
        self.sent = threading.Event()
        self._release: queue.Queue[bool] = queue.Queue()
        self.error: BaseException | None = None

        def chunks() -> Iterator[bytes]:
            for _ in range(size // MIB):
                yield os.urandom(MIB)
            self.sent.set()
            if self._release.get(timeout=120):
                yield b"the end"

        def put() -> None:
            try:
                coffre.blobs.put(self.name, chunks())
            except BaseException as error:
                self.error = error

        self._thread = threading.Thread(target=put, daemon=True)
        self._thread.start()

    def finish(self) -> None:
        """Let the put complete and wait for it."""
        self._release.put(True)
        self._thread.join(timeout=120)


def _partials(coffre: Coffre) -> list[str]:
    """Temporary files or incomplete multipart uploads (by blob name)."""
    blobs = coffre.blobs
    if coffre.settings.blob_store == "fs":
        root = coffre.settings.data_dir / "blobs"
        return sorted(path.name.split(".")[1] for path in root.glob("*/*/.*.tmp"))
    page = blobs._client._list_multipart_uploads(blobs.bucket)  # type: ignore[attr-defined]
    return sorted(upload.object_name for upload in page.uploads)


def test_the_scheduler_pass_removes_old_temporaries_and_spares_running_puts(
    coffre: Coffre,
) -> None:
    # A put killed midway: its temporary stays (6 MiB: S3 has stored a first part).
    killed = _HeldPut(coffre, 6 * MIB)
    assert killed.sent.wait(60)
    wait_for(lambda: killed.name in _partials(coffre), 30, "the killed put's partial blob")
    time.sleep(TEMPORARY_GRACE.total_seconds() + 1)  # it is now older than the grace
    # A put in progress, begun just now.
    running_put = _HeldPut(coffre, 6 * MIB)
    assert running_put.sent.wait(60)
    wait_for(lambda: running_put.name in _partials(coffre), 30, "the running put's partial")

    report = coffre.collector.run_if_due()

    assert report is not None and report.temporaries == 1
    assert _partials(coffre) == [running_put.name]
    assert coffre.collector.run_if_due() is None  # not again before the interval
    running_put.finish()
    assert running_put.error is None
    assert coffre.blobs.size(running_put.name) == 6 * MIB + len(b"the end")
    killed._release.put(False)  # the "killed" thread ends without finishing its put


def test_the_scheduler_pass_removes_orphans_past_their_grace_only(coffre: Coffre) -> None:
    clock = coffre.vault.clock
    assert isinstance(clock, ManualClock)
    open_space(coffre, clock, PATIENT.id, HOSPITAL)
    kept = deposit(coffre, PATIENT.id, b"compte rendu", HOSPITAL)
    assert kept
    orphan = coffre.vault.upload(PATIENT.id, [envelope_prefix(100)], HOSPITAL).blob
    stored = set(coffre.blobs.names())
    assert orphan in stored and len(stored) == 2

    # Ages are wall-clock ages (the stores stamp blobs with real time), whatever the
    # vault's own clock says: a day from now, the orphan is past its grace.
    now = datetime.now(UTC)
    today = BlobCollector(coffre.vault, clock=lambda: now)
    assert today.run().orphans == 0
    tomorrow = BlobCollector(coffre.vault, clock=lambda: now + timedelta(hours=25))
    assert tomorrow.run().orphans == 1
    assert set(coffre.blobs.names()) == stored - {orphan}


def test_an_orphan_grace_shorter_than_the_receipts_is_refused(coffre: Coffre) -> None:
    from wire.errors import InvalidInput

    with pytest.raises(InvalidInput, match="blob_orphan_grace"):
        BlobCollector(coffre.vault, orphan_grace=timedelta(minutes=5))


# -- a real server killed mid-upload ---------------------------------------------------


@pytest.fixture(params=BACKENDS)
def killed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    """A server SIGKILLed while an upload had sent 6 MiB: its partial blob is left."""
    extra = {"COFFRE_BLOB_TEMPORARY_GRACE": "PT2S", "COFFRE_S3_DIRECT_UPLOADS": "false"}
    with running(request, request.param, tmp_path, extra) as served:
        token = served.tokens.mint(HOSPITAL)
        sock = open_upload(served.url, token, PATIENT.id, envelope_prefix(6 * MIB), 2**31)
        wait_for(lambda: bool(partial_blobs(served)), 60, "the upload's partial blob")
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=30)
        sock.close()
        yield served


def _coffre(served: Running, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")} | served.env
    return subprocess.run(
        [sys.executable, "-m", "coffre.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_coffre_scheduler_run_collects_what_a_killed_upload_left(killed: Running) -> None:
    assert partial_blobs(killed)
    time.sleep(3)  # older than COFFRE_BLOB_TEMPORARY_GRACE

    result = _coffre(killed, "scheduler", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert "blobs collected: 0 orphan(s), 1 unfinished upload(s)" in result.stderr
    assert partial_blobs(killed) == []


def test_coffre_blobs_collect_removes_temporaries_too(killed: Running) -> None:
    time.sleep(3)
    result = _coffre(killed, "blobs", "collect", "--temporaries-older-than", "0.0005")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "0 orphan blob(s) removed",
        "1 unfinished upload(s) removed",
    ]
    assert partial_blobs(killed) == []


def test_the_restarted_embedded_server_collects_on_its_own(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    extra = {"COFFRE_BLOB_TEMPORARY_GRACE": "PT2S", "COFFRE_S3_DIRECT_UPLOADS": "false"}
    with running(request, "sqlite-fs", tmp_path, extra) as served:
        token = served.tokens.mint(HOSPITAL)
        sock = open_upload(served.url, token, PATIENT.id, envelope_prefix(6 * MIB), 2**31)
        wait_for(lambda: bool(partial_blobs(served)), 60, "the upload's partial blob")
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=30)
        sock.close()
    assert partial_blobs(served)
    time.sleep(3)
    # The same data directory, served again: the projection thread's housekeeping
    # collects at start and then every COFFRE_BLOB_COLLECT_INTERVAL.
    with serve(served.env, tmp_path / "again.log"):
        wait_for(lambda: not partial_blobs(served), 60, "the collection by the server")
