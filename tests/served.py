"""A real ``coffre serve`` (uvicorn) in a subprocess, for tests that need real HTTP.

Shared by the CLI tests and the transfer scenarios: the server is started the way an
operator starts it, with its configuration in ``COFFRE_*`` variables (``server_env``),
on a database and a bucket of its own (``scratch_database``, ``scratch_bucket``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from vault.settings import DEMO_ENROLMENT

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    env: Mapping[str, str], log: Path, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``coffre serve`` with ``env`` added to this process's environment, on ``port``
    (default: any free one).

    Yields the base URL and the process; output goes to ``log``. The server is
    terminated (and waited for) on exit.
    """
    port = port or free_port()
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


def coffre_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with only ``env``'s ``COFFRE_*`` variables: what a
    ``coffre`` command started by a test sees, whatever the shell running the suite set."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")} | dict(env)


def coffre_run(
    env: Mapping[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``coffre ARGS`` run to its end (killed after ``timeout`` s), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "coffre.cli", *args],
        env=coffre_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def serve_refused(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``coffre serve ARGS``, expected to exit before serving (killed after 60 s): for
    the checks made before uvicorn starts."""
    return coffre_run(env, "serve", *args)


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


def server_env(
    request: pytest.FixtureRequest, backend: str, data_dir: Path, keys: str
) -> dict[str, str]:
    """The ``COFFRE_*`` environment of a server on ``backend``.

    ``postgres-s3`` asks the requesting test for its ``pg_database``, ``s3_server`` and
    ``s3_bucket`` fixtures.
    """
    env = {
        "COFFRE_DATA_DIR": str(data_dir),
        "COFFRE_MASTER_KEYS": keys,
        "COFFRE_LOG_FORMAT": "json",
        # No opposition period: the space opens as it is provisioned, so documents can
        # be deposited at once (the real server's clock cannot be moved six weeks on).
        "COFFRE_OPPOSITION_PERIOD": "PT0S",
        # The enrolment service that approves the test actors' devices (``tests.devices``;
        # the embedded default already, named for the other backends).
        "COFFRE_ENROLMENT_SERVICES": DEMO_ENROLMENT,
    }
    if backend == "postgres-s3":
        pg = request.getfixturevalue("pg_database")
        s3 = request.getfixturevalue("s3_server")
        env |= {
            "COFFRE_DATABASE": "postgres",
            "COFFRE_ENV": "development",  # tests log in at the embedded provider
            "COFFRE_PG_HOST": pg["host"],
            "COFFRE_PG_PORT": pg["port"],
            "COFFRE_PG_USER": pg["user"],
            "COFFRE_PG_DBNAME": pg["dbname"],
            "COFFRE_BLOB_STORE": "s3",
            "COFFRE_S3_ENDPOINT": s3["endpoint"],
            "COFFRE_S3_ACCESS_KEY": s3["access_key"],
            "COFFRE_S3_SECRET_KEY": s3["secret_key"],
            "COFFRE_S3_BUCKET": request.getfixturevalue("s3_bucket"),
        }
    return env


@contextmanager
def scratch_database(pg_server: str, prefix: str) -> Iterator[dict[str, str]]:
    """A new, empty PostgreSQL database named ``<prefix>_<random>``, dropped on exit.

    Yields the connection parameters (host, port, user, dbname).
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = dict(item.split("=", 1) for item in pg_server.split())
    params["dbname"] = name
    try:
        yield params
    finally:
        with psycopg.connect(pg_server, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_bucket(s3_server: Mapping[str, str], prefix: str) -> Iterator[str]:
    """The name of an S3 bucket ``<prefix>-<random>`` (made by the Coffre that uses it),
    emptied and removed on exit."""
    from minio import Minio

    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        client = Minio(
            s3_server["endpoint"],
            access_key=s3_server["access_key"],
            secret_key=s3_server["secret_key"],
            secure=False,
        )
        if client.bucket_exists(name):
            for obj in client.list_objects(name, recursive=True):
                client.remove_object(name, obj.object_name)
            client.remove_bucket(name)
