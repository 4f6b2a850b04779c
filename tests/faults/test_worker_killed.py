"""An API worker SIGKILLed 50 times mid-deposit, on PostgreSQL + S3 (issue 16): three
workers, relay and direct uploads alternating (``tests.faults.killing``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import World, base_env, s3_env, seed, server
from tests.faults.killing import kill_deposits
from tests.served import scratch_bucket, scratch_database

PORT = 18300
WORKERS = 3


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
            yield seed(f"http://127.0.0.1:{PORT}", env), env, process, log


def test_worker_killed_mid_deposit(
    request: pytest.FixtureRequest, deployment: tuple[World, dict[str, str], Any, Path]
) -> None:
    world, env, process, log = deployment
    kill_deposits(request, world, env, process, log, WORKERS)
