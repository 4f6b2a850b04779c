"""The replicated PostgreSQL cluster of the fault tests (``scripts/pg-cluster``), its
faults, and Coffre's API workers and projection worker on it.

Each test module starts its own cluster on its own ports, and stops it at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.served import scratch_bucket, serve

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg-cluster"
#: seconds the script may take to start (or restart a node of) the cluster
START_TIMEOUT = 150


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its directory, libpq conninfo and the nodes' addresses."""

    directory: Path
    conninfo: str
    hosts: str
    ports: str
    rest: tuple[str, ...]
    started_in: float
    #: the script's port arguments (PostgreSQL, etcd, Patroni's REST API)
    port_args: tuple[str, str, str]

    def node_dir(self, port: int) -> Path:
        """The directory of the node listening on ``port``."""
        first = int(self.ports.split(",")[0])
        return self.directory / f"pg{port - first}"


def _require_tools() -> None:
    # The script installs patroni and etcd as root; elsewhere they must be there.
    if os.geteuid() == 0 or (shutil.which("patroni") and shutil.which("etcd")):
        return
    if os.environ.get("CI"):
        pytest.fail("patroni and etcd are missing, and CI requires the cluster tests")
    pytest.skip("patroni and etcd are missing (scripts/pg-cluster installs them as root)")


@contextmanager
def running_cluster(pg_port: int, etcd_port: int, rest_port: int) -> Iterator[Cluster]:
    """``scripts/pg-cluster start`` in a fresh directory (reachable by user postgres,
    which Patroni runs as under root), stopped and removed on exit."""
    _require_tools()
    directory = Path(tempfile.mkdtemp(prefix="coffre-pgc-"))
    directory.chmod(0o755)
    began = time.monotonic()
    try:
        done = subprocess.run(
            [str(SCRIPT), "start", str(directory), str(pg_port), str(etcd_port), str(rest_port)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"scripts/pg-cluster start failed:\n{done.stdout}\n{done.stderr}")
        env = _read_env(directory / "env")
        yield Cluster(
            directory=directory,
            conninfo=env["PG_CLUSTER_CONNINFO"],
            hosts=env["COFFRE_PG_HOST"],
            ports=env["COFFRE_PG_PORT"],
            rest=tuple(env["PG_CLUSTER_REST"].split(",")),
            started_in=time.monotonic() - began,
            port_args=(str(pg_port), str(etcd_port), str(rest_port)),
        )
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], timeout=120, check=False)
        shutil.rmtree(directory, ignore_errors=True)


def _read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = value.strip('"')
    return values


def primary_port(cluster: Cluster) -> int | None:
    """The port of the node Patroni says is the running primary, if any."""
    for index, address in enumerate(cluster.rest):
        try:
            with urllib.request.urlopen(f"http://{address}/patroni", timeout=2) as answer:
                state = json.load(answer)
        except (OSError, ValueError):
            continue
        if state.get("role") in ("master", "primary") and state.get("state") == "running":
            return int(cluster.ports.split(",")[0]) + index
    return None


def kill_primary(cluster: Cluster, *, with_patroni: bool) -> int:
    """SIGKILL the primary's postmaster (Patroni then restarts it in place), or the
    primary's Patroni and postmaster both (the node is lost: the synchronous standby is
    promoted once the leader key expires). Returns the killed node's port."""
    port = primary_port(cluster)
    assert port is not None, "no primary to kill"
    node = cluster.node_dir(port)
    if with_patroni:
        os.kill(int((node / "patroni.pid").read_text()), signal.SIGKILL)
    os.kill(int((node / "data" / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
    return port


def switchover(cluster: Cluster) -> None:
    """A planned switchover (``patronictl switchover --force``): the primary is demoted
    (restarted as a replica) and the synchronous standby promoted."""
    port = primary_port(cluster)
    assert port is not None, "no primary to switch over from"
    config = cluster.node_dir(port) / "patroni.yml"
    done = subprocess.run(
        ["patronictl", "-c", str(config), "switchover", "--force"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def wait_for_writes(cluster: Cluster, timeout: float = 60) -> float:
    """Seconds until a write commits on the cluster again (a primary is there)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            with psycopg.connect(cluster.conninfo, dbname="postgres", connect_timeout=2) as conn:
                conn.execute("SELECT txid_current()")
                return time.monotonic() - began
        except psycopg.Error:
            time.sleep(0.2)
    raise AssertionError(f"no writable primary after {timeout} s")


@contextmanager
def cluster_database(cluster: Cluster, prefix: str) -> Iterator[str]:
    """A new database on the cluster (replicated like the rest); its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(cluster.conninfo, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name


def coffre_env(
    cluster: Cluster, dbname: str, s3: Mapping[str, str], bucket: str, master: str
) -> dict[str, str]:
    """The ``COFFRE_*`` variables of a worker on the cluster (all hosts, the primary
    chosen by libpq) and the shared S3 server."""
    return {
        "COFFRE_DATABASE": "postgres",
        "COFFRE_ENV": "development",  # the embedded issuer mints the actors' tokens
        "COFFRE_PG_HOST": cluster.hosts,
        "COFFRE_PG_PORT": cluster.ports,
        "COFFRE_PG_DBNAME": dbname,
        "COFFRE_PG_TARGET_SESSION_ATTRS": "read-write",
        "COFFRE_BLOB_STORE": "s3",
        "COFFRE_S3_ENDPOINT": s3["endpoint"],
        "COFFRE_S3_ACCESS_KEY": s3["access_key"],
        "COFFRE_S3_SECRET_KEY": s3["secret_key"],
        "COFFRE_S3_BUCKET": bucket,
        "COFFRE_MASTER_KEYS": master,
        "COFFRE_LOG_FORMAT": "json",
        "COFFRE_OPPOSITION_PERIOD": "PT0S",
    }


@contextmanager
def workers(
    env: Mapping[str, str], tmp: Path, count: int
) -> Iterator[tuple[list[str], subprocess.Popen[bytes]]]:
    """``count`` API workers (``coffre serve``, one data directory each) and one
    projection worker, as an operator runs them; yields the workers' URLs and the
    projection worker's process."""
    with ExitStack() as stack:
        urls = []
        for index in range(count):
            data = tmp / f"worker{index}"
            url, _ = stack.enter_context(
                serve({**env, "COFFRE_DATA_DIR": str(data)}, tmp / f"worker{index}.log")
            )
            urls.append(url)
        projections = stack.enter_context(
            projection_worker({**env, "COFFRE_DATA_DIR": str(tmp / "pw")}, tmp)
        )
        yield urls, projections


@contextmanager
def projection_worker(env: Mapping[str, str], tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``coffre projections run`` in its own process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    with (tmp / "projections.log").open("ab") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "projections", "run"],
            env=full_env | dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        stop_process(worker)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a child process, killing it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


__all__ = ["scratch_bucket"]
