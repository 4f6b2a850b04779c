"""An API worker SIGKILLed mid-deposit, 50 times (issue 16): the loop and the checks
that ``test_worker_killed`` (PostgreSQL + S3, three workers) and
``test_worker_killed_embedded`` (SQLite + files, one worker) share.

The server's supervisor forks a new worker for each one killed
(``tests.faults.forkserve``: starting ``coffre serve`` costs ~2.5 s of an idle machine,
and uvicorn's own supervisor as much per restart, which 50 restarts cannot afford).
Each round, the hospital's SDK deposits 1 to 6 MiB, alternating the relay upload
(``POST /uploads``) and, on S3, the direct upload (presigned S3 parts), and the worker
holding its connection is SIGKILLed after a random delay; rounds go on until 50 kills
have landed. Then:

- a deposit either succeeded or raised ``Unavailable`` (what the SDK's ``retrying``
  retries), never anything else and never a success without its document;
- every acknowledged deposit reads back byte-identical;
- every ``Deposited`` event names a blob stored whole (its size and SHA-256);
- after the blob collector (a test clock past the graces), the store holds exactly
  the deposited blobs, and no unfinished upload (S3 multipart upload, temporary file).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio

from coffre.bootstrap import build
from tests.faults.harness import (
    PATIENT,
    World,
    deposited,
    read_back,
    report,
    settings_of,
    wait_up,
)
from vault.scheduler import BlobCollector
from wire.errors import Unavailable

#: SIGKILLs to land, each on the worker of a deposit in flight
KILLS = 50
MAX_ROUNDS = 250
MIB = 1024 * 1024


def _children(pid: int) -> list[int]:
    """The supervisor's worker processes."""
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def _connected_inodes(port: int) -> set[str]:
    """Socket inodes of the established connections to ``port`` on loopback."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def _holding(workers: list[int], port: int) -> list[int]:
    """The workers holding an established connection to ``port``."""
    wanted = {f"socket:[{inode}]" for inode in _connected_inodes(port)}
    holders = []
    for pid in workers:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    holders.append(pid)
                    break
            except OSError:
                continue
    return holders


def _wait_ready(log: Path, started: int, timeout: float = 120) -> None:
    """Wait until ``started`` workers have completed their start (uvicorn logs each)."""
    deadline = time.monotonic() + timeout
    while log.read_bytes().count(b"Application startup complete") < started:
        assert time.monotonic() < deadline, f"fewer than {started} workers started in time"
        time.sleep(0.1)


def _deposit(world: World, data: bytes, direct: bool, outcome: dict[str, Any]) -> None:
    try:
        with world.hospital(timeout=20) as hospital:
            hospital.direct_uploads = direct
            document_id, _ = hospital.deposit(
                PATIENT.id, data, type="lab_result", title="Bilan", date=date(2026, 10, 1)
            )
        outcome["document"] = document_id
    except BaseException as error:
        outcome["error"] = error


def kill_deposits(
    request: pytest.FixtureRequest,
    world: World,
    env: dict[str, str],
    process: subprocess.Popen[bytes],
    log: Path,
    workers: int,
) -> None:
    """Deposit and SIGKILL the worker serving it until ``KILLS`` kills landed, then
    check the deposits and the store (see the module's note)."""
    port = httpx.URL(world.url).port
    started = time.monotonic()
    direct = env.get("COFFRE_BLOB_STORE") == "s3"
    rng = random.Random(os.environ.get("COFFRE_FAULTS_SEED", "16"))
    # How long a deposit takes here (a first one warms the server up), so that kills
    # land at every moment of one.
    warm: dict[str, Any] = {}
    _deposit(world, os.urandom(MIB), direct, warm)
    timings = []
    for size in (2, 4, 5):
        t0 = time.monotonic()
        _deposit(world, os.urandom(size * MIB), direct and size != 4, warm)
        timings.append(time.monotonic() - t0)
    assert "error" not in warm, warm
    acknowledged: dict[Any, bytes] = {}
    failures: dict[str, int] = {}
    kills = hits = rounds = 0
    while kills < KILLS:
        rounds += 1
        assert rounds <= MAX_ROUNDS, f"only {kills} kills landed in {MAX_ROUNDS} rounds"
        # One restart at most in flight: the supervisor replaces a killed worker while
        # the next round runs on the others (a lone worker must be back first).
        _wait_ready(log, workers + kills - (1 if workers > 1 else 0))
        # 1 to 6 MiB: relayed ones above 5 MiB are multipart uploads in S3
        data = os.urandom(rng.randint(1 * MIB, 6 * MIB))
        outcome: dict[str, Any] = {}
        worker = threading.Thread(
            target=_deposit, args=(world, data, rounds % 2 == 0 and direct, outcome), daemon=True
        )
        t0 = time.monotonic()
        worker.start()
        # within a deposit: the median of the latest whole ones (the machine's load varies)
        span = sorted(timings[-5:])[len(timings[-5:]) // 2]
        time.sleep(rng.uniform(0.0, 0.8 * span))
        # the worker serving this deposit (or holding its idle connection), if any yet
        victims = _holding(_children(process.pid), port)
        if victims:
            os.kill(rng.choice(victims), signal.SIGKILL)
            kills += 1
        worker.join(timeout=90)
        assert not worker.is_alive(), "a deposit hung after its worker was killed"
        if "document" in outcome:
            acknowledged[outcome["document"]] = data
            if not victims:
                timings.append(time.monotonic() - t0)
        else:
            error = outcome["error"]
            hits += 1
            # a clear, retryable error: what client.feeding.retrying retries
            assert isinstance(error, Unavailable), f"round {rounds}: {type(error).__name__}"
            failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
    _wait_ready(log, workers + kills)
    wait_up(world.url, process, Path(os.devnull), timeout=60)
    looped = time.monotonic() - started
    # Every acknowledged deposit reads back whole (the SDK checks the recorded hash).
    for document_id, data in acknowledged.items():
        assert read_back(world, document_id) == data
    checked = _check_store(env)
    elapsed = time.monotonic() - started
    backend = "postgres-s3" if direct else "sqlite-fs"
    report(
        request,
        f"faults: {backend}: API worker SIGKILLed {kills} times mid-deposit ({hits} "
        f"deposits failed with {failures}); {len(acknowledged)} acknowledged deposits "
        f"read back, {checked} Deposited events checked against the store; {elapsed:.0f} s "
        f"({looped:.0f} s of kills)",
    )
    assert kills >= KILLS


def _check_store(env: dict[str, str]) -> int:
    """Each deposited blob whole in the store; then the collector leaves nothing else."""
    with settings_of(env) as config:
        coffre = build(config)
    try:
        events = deposited(coffre)
        for event in events:
            digest, size = hashlib.sha256(), 0
            with coffre.blobs.open(event.blob) as stream:
                for piece in stream:
                    digest.update(piece)
                    size += len(piece)
            assert size == event.size
            assert digest.hexdigest() == event.sha256
        vault = coffre.vault
        later = datetime.now(UTC) + vault.upload_ttl + timedelta(minutes=5)
        BlobCollector(
            vault,
            orphan_grace=vault.upload_ttl,
            temporary_grace=vault.upload_ttl,
            clock=lambda: later,
        ).run()
        assert set(coffre.blobs.names()) == {event.blob for event in events}
        assert not _unfinished(env), "unfinished uploads left after collection"
        return len(events)
    finally:
        coffre.close()


def _unfinished(env: dict[str, str]) -> list[str]:
    """S3's incomplete multipart uploads, or the filesystem store's temporary files."""
    if env.get("COFFRE_BLOB_STORE") == "s3":
        s3 = Minio(
            env["COFFRE_S3_ENDPOINT"],
            access_key=env["COFFRE_S3_ACCESS_KEY"],
            secret_key=env["COFFRE_S3_SECRET_KEY"],
            secure=False,
        )
        page = s3._list_multipart_uploads(env["COFFRE_S3_BUCKET"])
        return [str(upload.object_name) for upload in page.uploads]
    blobs = Path(env["COFFRE_DATA_DIR"]) / "blobs"
    return [path.name for path in blobs.rglob("*.tmp")]
