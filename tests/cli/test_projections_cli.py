"""``coffre projections run --only``: a worker that follows some projections only (the
trail in a process of its own), on PostgreSQL and S3, started as an operator starts it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from coffre.bootstrap import build
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.scenarios.conftest import postgres_s3_settings
from tests.served import coffre_env, coffre_run, server_env
from wire.values import Role

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

#: what ``coffre projections run`` follows by default
PROJECTIONS = ("access_log", "trail", "notifications", "access_views_facts", "representations")
#: "trail" in full-width letters: not the trail
FULL_WIDTH = "\uff54\uff52\uff41\uff49\uff4c"
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")


@pytest.fixture
def deployment(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The ``COFFRE_*`` variables of a PostgreSQL + S3 deployment with a few events."""
    keys = MasterKeys.generate().current.to_line()
    pg, s3 = request.getfixturevalue("pg_database"), request.getfixturevalue("s3_server")
    settings = postgres_s3_settings(
        tmp_path, pg, s3, request.getfixturevalue("s3_bucket"), master_keys=keys
    )
    coffre = build(settings)
    try:
        for n in range(3):
            coffre.vault.provision(patient_id_from_number(f"2900175{n:06d}"), HOSPITAL)
    finally:
        coffre.close()
    return server_env(request, "postgres-s3", tmp_path / "data", keys)


def _positions(deployment: dict[str, str]) -> dict[str, int]:
    """The head of the log ("head") and each projection's position that has one."""
    with psycopg.connect(
        host=deployment["COFFRE_PG_HOST"],
        port=deployment["COFFRE_PG_PORT"],
        user=deployment["COFFRE_PG_USER"],
        dbname=deployment["COFFRE_PG_DBNAME"],
    ) as conn:
        (head,) = conn.execute("SELECT max(notification_id) FROM vault_events").fetchone()
        rows = conn.execute(
            "SELECT application_name, max(notification_id) FROM view_tracking GROUP BY 1"
        ).fetchall()
    return {"head": head} | dict(rows)


def test_a_worker_of_the_trail_alone_moves_the_trail_and_nothing_else(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            # spaces and a repeat are fine
            [sys.executable, "-m", "coffre.cli", "projections", "run", "--only", " trail , trail "],
            env=coffre_env(deployment),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        positions = _positions(deployment)
        while positions.get("trail", 0) < positions["head"]:
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
            positions = _positions(deployment)
    finally:
        worker.terminate()
        status = worker.wait(timeout=30)
    assert status == 0, log.read_text()
    # the others were not moved (the vault's own recorder keeps a row of its own there)
    assert set(positions) & set(PROJECTIONS) == {"trail"}, positions
    text = log.read_text()
    assert "following the event log: trail\n" in text and "stopped" in text


@pytest.mark.parametrize(
    ("only", "said"),
    [
        ("nonsense", "unknown projection(s) 'nonsense'"),
        ("trail,trial", "unknown projection(s) 'trial'"),
        (" , ,", "--only names no projection"),
        (
            "\uff54\uff52\uff41\uff49\uff4c",
            "unknown projection(s) '\uff54\uff52\uff41\uff49\uff4c'",
        ),
        ("x" * 5000, "unknown projection(s)"),
    ],
    ids=["unknown", "one-unknown", "empty", "full-width", "huge"],
)
def test_only_names_known_projections_or_the_worker_refuses_to_start(
    deployment: dict[str, str], only: str, said: str
) -> None:
    done = coffre_run(deployment, "projections", "run", "--only", only)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert said in " ".join(output.split()), output
    assert "known: access_log, trail" in " ".join(output.split()), output
    assert "Traceback" not in output
