"""An API worker SIGKILLed mid-deposit, 50 times (issue 16).

A three-worker server on PostgreSQL + the shared S3, whose supervisor forks a new
worker for each one killed (``tests.faults.forkserve``: starting ``coffre serve`` 50
times costs ~2.5 s each on an idle machine, and uvicorn's own supervisor as much per
restart). Each round, the hospital's SDK deposits a few MiB, alternating the relay
upload (``POST /uploads``) and the direct upload (presigned S3 parts), and the worker
holding its connection is SIGKILLed after a random delay; rounds go on until 50 kills
have landed. Then:

- a deposit either succeeded or raised ``Unavailable`` (what the SDK's ``retrying``
  retries), never anything else and never a success without its document;
- every acknowledged deposit reads back byte-identical;
- every ``Deposited`` event names an object stored whole (size and SHA-256 in S3);
- after the blob collector (a test clock past the graces), the bucket holds exactly
  the deposited objects and no unfinished multipart upload.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from minio import Minio

from coffre.bootstrap import build
from tests.faults.harness import (
    PATIENT,
    World,
    base_env,
    deposited,
    read_back,
    report,
    s3_env,
    seed,
    server,
    settings_of,
    wait_up,
)
from tests.served import scratch_bucket, scratch_database
from vault.scheduler import BlobCollector
from wire.errors import Unavailable

PORT = 18300
WORKERS = 3
#: SIGKILLs to land, each on the worker of a deposit in flight
KILLS = 50
MAX_ROUNDS = 120
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


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, dict[str, str], Any, Path]]:
    """A three-worker server on a scratch database and bucket, with its world seeded."""
    s3 = request.getfixturevalue("s3_server")
    pg_admin = request.getfixturevalue("pg_server")
    tmp = tmp_path_factory.mktemp("killed")
    with (
        scratch_database(pg_admin, "coffre_faults") as pg,
        scratch_bucket(s3, "coffre-faults") as bucket,
    ):
        env = base_env(tmp / "data") | s3_env(pg, s3, bucket)
        log = tmp / "server.log"
        with server(env, PORT, log, workers=WORKERS) as process:
            world = seed(f"http://127.0.0.1:{PORT}", env)
            yield world, env, process, log


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


def test_worker_killed_mid_deposit(
    request: pytest.FixtureRequest, deployment: tuple[World, dict[str, str], Any]
) -> None:
    world, env, process, log = deployment
    started = time.monotonic()
    rng = random.Random(os.environ.get("COFFRE_FAULTS_SEED", "16"))
    # How long a deposit takes here, so that kills land before, during and after it.
    t0 = time.monotonic()
    warm: dict[str, Any] = {}
    _deposit(world, os.urandom(4 * MIB), True, warm)
    _deposit(world, os.urandom(4 * MIB), False, warm)
    span = (time.monotonic() - t0) / 2
    assert "error" not in warm, warm
    acknowledged: dict[Any, bytes] = {}
    failures: dict[str, int] = {}
    kills = hits = rounds = 0
    while kills < KILLS:
        rounds += 1
        assert rounds <= MAX_ROUNDS, f"only {kills} kills landed in {MAX_ROUNDS} rounds"
        # One restart at most in flight: the supervisor replaces a killed worker while
        # the next round runs on the others.
        _wait_ready(log, WORKERS - 1 + kills)
        # 1 to 6 MiB: relayed ones above 5 MiB are multipart uploads in S3
        data = os.urandom(rng.randint(1 * MIB, 6 * MIB))
        outcome: dict[str, Any] = {}
        worker = threading.Thread(
            target=_deposit, args=(world, data, rounds % 2 == 0, outcome), daemon=True
        )
        worker.start()
        time.sleep(rng.uniform(0.0, 1.2 * span))
        # the worker serving this deposit (or holding its idle connection), if any yet
        victims = _holding(_children(process.pid), PORT)
        if victims:
            os.kill(rng.choice(victims), signal.SIGKILL)
            kills += 1
        worker.join(timeout=90)
        assert not worker.is_alive(), "a deposit hung after its worker was killed"
        if "document" in outcome:
            acknowledged[outcome["document"]] = data
        else:
            error = outcome["error"]
            hits += 1
            # a clear, retryable error: what client.feeding.retrying retries
            assert isinstance(error, Unavailable), f"round {rounds}: {type(error).__name__}"
            failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
    _wait_ready(log, WORKERS + kills)
    wait_up(world.url, process, Path(os.devnull), timeout=60)
    looped = time.monotonic() - started
    # Every acknowledged deposit reads back whole (the SDK checks the recorded hash).
    for document_id, data in acknowledged.items():
        assert read_back(world, document_id) == data
    checked = _check_store(env)
    elapsed = time.monotonic() - started
    report(
        request,
        f"faults: API worker SIGKILLed {kills} times mid-deposit ({hits} deposits failed "
        f"with {failures}); {len(acknowledged)} acknowledged deposits read back, "
        f"{checked} Deposited events checked against S3; {elapsed:.0f} s "
        f"({looped:.0f} s of kills)",
    )
    assert kills >= KILLS


def _check_store(env: dict[str, str]) -> int:
    """Each deposited object whole in S3; then the collector leaves nothing else."""
    with settings_of(env) as config:
        coffre = build(config)
    try:
        events = deposited(coffre)
        s3 = Minio(
            env["COFFRE_S3_ENDPOINT"],
            access_key=env["COFFRE_S3_ACCESS_KEY"],
            secret_key=env["COFFRE_S3_SECRET_KEY"],
            secure=False,
        )
        bucket = env["COFFRE_S3_BUCKET"]
        for event in events:
            response = s3.get_object(bucket, event.blob)
            try:
                body = response.read()
            finally:
                response.close()
                response.release_conn()
            assert len(body) == event.size
            assert hashlib.sha256(body).hexdigest() == event.sha256
        vault = coffre.vault
        later = datetime.now(UTC) + vault.upload_ttl + timedelta(minutes=5)
        BlobCollector(
            vault,
            orphan_grace=vault.upload_ttl,
            temporary_grace=vault.upload_ttl,
            clock=lambda: later,
        ).run()
        stored = {obj.object_name for obj in s3.list_objects(bucket, recursive=True)}
        assert stored == {event.blob for event in events}
        unfinished = s3._list_multipart_uploads(bucket)
        assert not unfinished.uploads, "unfinished multipart uploads left after collection"
        return len(events)
    finally:
        coffre.close()
