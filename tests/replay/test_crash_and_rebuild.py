"""Projections are disposable: killed at any point they resume exactly; rebuilt, identical.

Both run on PostgreSQL, where projection workers are separate processes.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coffre.bootstrap import Coffre, build
from domain.access import Access
from domain.reads import Decision, Rule
from domain.values import Scope
from tests.replay.views import rebuilt, snapshot
from tests.scenarios.conftest import Cast, backend_settings, deposit, read
from vault.clock import ManualClock
from vault.settings import Settings
from wire.errors import UnknownDocument

KILLS = 20


@pytest.fixture
def coffre(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """PostgreSQL only (overrides the both-backends fixture): workers are processes there."""
    built = build(backend_settings(request, "postgres-s3", tmp_path / "data"), clock=clock)
    yield built
    built.close()


def worker_env(settings: Settings) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COFFRE_") or k.startswith("COFFRE_TEST")
    }
    env |= {
        "COFFRE_DATA_DIR": str(settings.data_dir),
        "COFFRE_DATABASE": "postgres",
        "COFFRE_ENV": "development",
        "COFFRE_PG_HOST": settings.pg_host,
        "COFFRE_PG_PORT": str(settings.pg_port),
        "COFFRE_PG_USER": settings.pg_user,
        "COFFRE_PG_DBNAME": settings.pg_dbname,
        "COFFRE_MASTER_KEYS": settings.master_keys.get_secret_value(),  # type: ignore[union-attr]
        "COFFRE_BLOB_STORE": "s3",
        "COFFRE_S3_ENDPOINT": settings.s3_endpoint,
        "COFFRE_S3_ACCESS_KEY": settings.s3_access_key.get_secret_value(),  # type: ignore[union-attr]
        "COFFRE_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),  # type: ignore[union-attr]
        "COFFRE_S3_BUCKET": settings.s3_bucket,
    }
    return env


def record_many_reads(coffre: Coffre, cast: Cast, count: int) -> None:
    """Many access records, saved in batches: a log worth catching up on."""
    document_id = deposit(coffre, cast.patient.actor.id, b"x", cast.hospital)
    space_id = coffre.vault.space_key(cast.patient.actor.id).space_id
    refusal = Decision.refuse(Rule.NOT_AUTHORISED)
    now = coffre.vault.clock.now()
    for start in range(0, count, 500):
        records = [
            Access.record_refusal(space_id, document_id, cast.stranger.actor, refusal, 3, now)
            for _ in range(min(500, count - start))
        ]
        coffre.vault.save(*records)


@pytest.mark.postgres
def test_a_worker_killed_at_random_points_loses_and_doubles_nothing(
    coffre: Coffre, cast: Cast
) -> None:
    record_many_reads(coffre, cast, 3000)
    head = coffre.runner.source.last_id()
    env = worker_env(coffre.settings)
    names = list(coffre.runner.projections)
    mid_catch_up_kills = 0
    rng = random.Random(20261122)
    for _ in range(200):
        # Enough kills landed mid catch-up (with a margin), or nothing is left to do.
        done = all(coffre.views.position(n) >= head for n in names)
        if done or mid_catch_up_kills >= KILLS + 5:
            break
        before = {n: coffre.views.position(n) for n in names}
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.replay.worker"],
            env=env | {"WORKER_BATCH": "20"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == b"ready", (
            worker.stderr.read() if worker.stderr else ""
        )
        time.sleep(rng.uniform(0.01, 0.1))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        after = {n: coffre.views.position(n) for n in names}
        if after != before and any(a < head for a in after.values()):
            mid_catch_up_kills += 1
    # Finish the job in this process, then compare with a clean rebuild.
    coffre.runner.catch_up()
    assert mid_catch_up_kills >= KILLS, f"only {mid_catch_up_kills} kills landed mid catch-up"
    incremental = snapshot(coffre.runner)
    # + the provisioning, the patient's device (asked, code sent, approved), the deposit
    assert len(incremental["access_log"]) == 3000 + 5
    assert incremental == rebuilt(coffre.runner)


operations = st.lists(
    st.sampled_from(
        ["deposit", "grant", "revoke", "read_doctor", "read_patient", "read_stranger", "project"]
    ),
    min_size=1,
    max_size=10,
)


@pytest.mark.postgres
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=operations)
def test_a_rebuilt_projection_equals_the_incremental_one(
    coffre: Coffre, cast: Cast, steps: list[str]
) -> None:
    vault, patient = coffre.vault, cast.patient.actor
    documents: list = []
    grants: list = []
    for step in steps:
        if step == "deposit":
            documents.append(deposit(coffre, patient.id, uuid4().bytes, cast.hospital))
        elif step == "grant":
            grant_id = vault.grant(
                patient.id, cast.doctor.actor, Scope.whole_space(), None, patient
            )
            if grant_id not in grants:  # granting again changes the same grant (one per pro)
                grants.append(grant_id)
        elif step == "revoke" and grants:
            vault.revoke(patient.id, grants.pop(), patient)
        elif step.startswith("read") and documents:
            person = {
                "read_doctor": cast.doctor,
                "read_patient": cast.patient,
                "read_stranger": cast.stranger,
            }[step]
            with contextlib.suppress(UnknownDocument):
                read(coffre, patient.id, documents[-1], person)
        elif step == "project":
            coffre.runner.catch_up()
    coffre.runner.catch_up()
    assert snapshot(coffre.runner) == rebuilt(coffre.runner)
    assert date.today()
