"""Disk full under the embedded default's data directory (issue 16).

``coffre serve`` (SQLite + files) with ``COFFRE_DATA_DIR`` on a small tmpfs mounted by
the test (root only: skipped otherwise, a failure under ``CI=true``). The test fills
the filesystem, then tries deposits, grants and reads:

- each either succeeds or answers the one clear problem, 507 ``storage-full``
  (``StorageFull`` in the SDK, an ``Unavailable``: retryable once space is freed);
- nothing is corrupted: SQLite's ``integrity_check`` is ok, the events replay, every
  earlier document reads back byte-identical;
- once the filler is removed, the same server deposits, grants and reads again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from coffre.bootstrap import build
from domain.values import professional_id_from_number
from tests.faults.harness import (
    PATIENT,
    World,
    base_env,
    read_back,
    report,
    require,
    seed,
    server,
    settings_of,
)
from wire.errors import CoffreError, StorageFull

PORT = 18320
KIB, MIB = 1024, 1024 * 1024
SIZE = "48m"


@contextlib.contextmanager
def small_filesystem(where: Path) -> Iterator[Path]:
    """A tmpfs of ``SIZE`` mounted at ``where``, unmounted on exit."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    require(mounted, "cannot mount a small tmpfs (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem has no byte left; returns it."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for piece in (MIB, 64 * KIB, 4 * KIB, 512, 1):
            block = os.urandom(piece)
            try:
                while True:
                    out.write(block)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    return filler


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict, Path]]:
    """The embedded server with its data directory on the small filesystem."""
    tmp = tmp_path_factory.mktemp("diskfull")
    with small_filesystem(tmp / "mnt") as mnt:
        env = base_env(mnt / "data")
        with server(env, PORT, tmp / "server.log"):
            yield seed(f"http://127.0.0.1:{PORT}", env), env, mnt


def _deposit(world: World, data: bytes) -> Any:
    with world.hospital(timeout=30) as hospital:
        document_id, _ = hospital.deposit(
            PATIENT.id, data, type="lab_result", title="Bilan", date=date(2026, 10, 1)
        )
    return document_id


def _grant(world: World, number: int) -> Any:
    doctor = {
        "id": professional_id_from_number(f"10000000{number:02d}"),
        "name": f"Dr Faults {number}",
        "profession": "doctor",
        "organisation": "Cabinet Faults",
    }
    with world.patient() as patient:
        return patient.grant(PATIENT.id, doctor)


def test_disk_full(request: pytest.FixtureRequest, deployment: tuple[World, dict, Path]) -> None:
    world, env, mnt = deployment
    started = time.monotonic()
    documents = {}
    for _ in range(3):
        data = os.urandom(256 * KIB)
        documents[_deposit(world, data)] = data
    filler = fill(mnt)
    attempts: list[tuple[str, Any]] = []
    for number in range(3):
        for what, call in (
            ("deposit", lambda: _deposit(world, os.urandom(512 * KIB))),
            ("grant", lambda n=number: _grant(world, n)),
            ("read", lambda: read_back(world, next(iter(documents)))),
        ):
            try:
                attempts.append((what, call()))
            except CoffreError as error:
                # the one clear answer to a full disk: 507 storage-full
                assert isinstance(error, StorageFull), f"{what}: {type(error).__name__}: {error}"
                attempts.append((what, error))
    refused = [what for what, outcome in attempts if isinstance(outcome, StorageFull)]
    assert "deposit" in refused, attempts
    db = env["COFFRE_DATA_DIR"] + "/coffre.db"
    assert _integrity(db) == "ok"
    filler.unlink()
    # Space again: the same server works, and nothing earlier was lost.
    for what, outcome in attempts:
        if what == "deposit" and not isinstance(outcome, CoffreError):
            documents[outcome] = None  # deposited while full: must read back whole
    fresh = os.urandom(256 * KIB)
    documents[_deposit(world, fresh)] = fresh
    _grant(world, 9)
    for document_id, data in documents.items():
        plaintext = read_back(world, document_id)
        assert data is None or plaintext == data
    assert _integrity(db) == "ok"
    replayed = _replay(env)
    report(
        request,
        f"faults: data directory filled once, {len(attempts)} operations tried while "
        f"full ({len(refused)} refused with 507 storage-full: {sorted(set(refused))}); "
        f"{len(documents)} documents and {replayed} events checked after space was freed; "
        f"{time.monotonic() - started:.0f} s",
    )


def _integrity(path: str) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _replay(env: dict) -> int:
    """Every event read back through the mapper (a corrupt one would not decode)."""
    with settings_of(env) as config:
        coffre = build(config)
    try:
        vault = coffre.vault
        notifications = vault.recorder.select_notifications(start=1, limit=1_000_000)
        for notification in notifications:
            vault.mapper.to_domain_event(notification)
        return len(notifications)
    finally:
        coffre.close()
