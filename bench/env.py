"""Where the benchmarks run: the PostgreSQL server, the S3 server, databases, a served API.

``COFFRE_BENCH_PG`` (else ``COFFRE_TEST_PG``, else ``host=127.0.0.1 port=5432
user=postgres``) is a libpq conninfo of a server we may create databases on.
``COFFRE_BENCH_S3_*`` (else ``COFFRE_TEST_S3_*``, else the file ``scripts/s3-server``
writes in ``.test-services/s3/env``) gives the S3 endpoint and credentials.
``COFFRE_BENCH_RELAY`` (any value) serves with direct uploads off, so deposits are
relayed through the API as before issue 12. The baselines' bare ``minio`` client asks
for the quick ACKs Coffre's own S3 client asks for (``vault.blobstore_s3_http``):
against an RGW without ``tcp_nodelay``, a client without them waits ~40 ms on every S3
answer with a body (bench/README.md, row 1), and a baseline left with that wait would
flatter row 1's ratio by a factor of 1.7. ``COFFRE_BENCH_QUICKACK_BASELINE=0`` gives the baselines
minio's plain client instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from vault.settings import DEMO_ENROLMENT

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "host=127.0.0.1 port=5432 user=postgres"
STARTUP_TIMEOUT = 60.0


class BenchSetupError(RuntimeError):
    """A backend the benchmarks need is missing or misconfigured."""


def _s3_from_file() -> dict[str, str]:
    path = ROOT / ".test-services" / "s3" / "env"
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            match = re.match(r"(?:export\s+)?(COFFRE_TEST_S3_\w+)=(.*)$", line.strip())
            if match:
                found[match.group(1)] = match.group(2).strip("'\"")
    return found


def _s3_settings() -> dict[str, str]:
    fallback = _s3_from_file()

    def get(name: str) -> str | None:
        return (
            os.environ.get(f"COFFRE_BENCH_S3_{name}")
            or os.environ.get(f"COFFRE_TEST_S3_{name}")
            or fallback.get(f"COFFRE_TEST_S3_{name}")
        )

    endpoint, access, secret = get("ENDPOINT"), get("ACCESS_KEY"), get("SECRET_KEY")
    if not (endpoint and access and secret):
        raise BenchSetupError(
            "no S3 server: set COFFRE_TEST_S3_ENDPOINT/ACCESS_KEY/SECRET_KEY "
            "(scripts/s3-server start writes them to .test-services/s3/env)"
        )
    return {"endpoint": endpoint, "access_key": access, "secret_key": secret}


def quick_ack_baseline() -> bool:
    """Whether the baselines' minio client asks for quick ACKs (the default: fair)."""
    return os.environ.get("COFFRE_BENCH_QUICKACK_BASELINE", "1") not in ("0", "")


def conninfo_params(conninfo: str) -> dict[str, str]:
    """``host=... port=...`` as a dict."""
    return dict(item.split("=", 1) for item in conninfo.split())


@dataclass
class BenchEnv:
    """The servers of one run and the scratch space it works in."""

    pg: str
    s3: dict[str, str]
    quick: bool
    work: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    master_keys: str = ""
    _created: list[str] = field(default_factory=list)
    _buckets: list[str] = field(default_factory=list)

    @classmethod
    def from_environ(cls, quick: bool) -> BenchEnv:
        """The environment of this process (see the module docstring)."""
        from keys.master import MasterKeys

        pg = os.environ.get("COFFRE_BENCH_PG") or os.environ.get("COFFRE_TEST_PG") or DEFAULT_PG
        try:
            with psycopg.connect(pg, dbname="postgres", connect_timeout=5):
                pass
        except psycopg.Error as error:
            raise BenchSetupError(f"PostgreSQL is not reachable ({pg}): {error}") from None
        work = Path(tempfile.mkdtemp(prefix="coffre-bench-"))
        return cls(
            pg=pg,
            s3=_s3_settings(),
            quick=quick,
            work=work,
            master_keys=MasterKeys.generate().current.to_line(),
        )

    # -- PostgreSQL ----------------------------------------------------------------

    @property
    def pg_params(self) -> dict[str, str]:
        """The server's connection parameters (no dbname)."""
        params = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
        params.update(conninfo_params(self.pg))
        params.pop("dbname", None)
        return params

    def connect(self, dbname: str, **kwargs: Any) -> psycopg.Connection[Any]:
        """A connection to ``dbname`` on the bench server."""
        return psycopg.connect(self.pg, dbname=dbname, **kwargs)

    def pg_version(self) -> str:
        """``PostgreSQL 15.x`` of the bench server."""
        with self.connect("postgres") as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0].split()[0]}" if row else "PostgreSQL ?"

    def pg_settings(self) -> dict[str, str]:
        """The server settings that move these figures."""
        names = ("shared_buffers", "synchronous_commit", "fsync", "commit_delay", "max_connections")
        with self.connect("postgres") as conn:
            return {
                name: str(conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0])  # type: ignore[index]
                for name in names
            }

    def db_exists(self, name: str) -> bool:
        """Whether database ``name`` exists."""
        with self.connect("postgres", autocommit=True) as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                is not None
            )

    def create_db(self, name: str, *, scratch: bool = True, template: str | None = None) -> str:
        """Create database ``name`` (dropped first if it exists). Scratch ones are dropped
        when the run ends; cached datasets are not."""
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        if scratch:
            self._created.append(name)
        return name

    def drop_db(self, name: str) -> None:
        """Drop database ``name`` if it exists."""
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def scratch_name(self, what: str) -> str:
        """A database name unique to this run."""
        return f"coffre_bench_{what}_{self.run_id}"

    # -- S3 ------------------------------------------------------------------------

    def minio(self) -> Any:
        """A bare ``minio`` client of the S3 server (the baselines use it directly)."""
        from minio import Minio

        http = None
        if quick_ack_baseline():
            import urllib3

            from vault.blobstore_s3_http import pool_manager

            # minio's own defaults, with quick ACKs
            http = pool_manager(
                timeout=urllib3.Timeout(connect=300, read=300),
                maxsize=10,
                retries=urllib3.Retry(
                    total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
                ),
            )
        return Minio(
            self.s3["endpoint"],
            access_key=self.s3["access_key"],
            secret_key=self.s3["secret_key"],
            secure=False,
            http_client=http,
        )

    def bucket(self, what: str) -> str:
        """A bucket name unique to this run, emptied and removed when it ends."""
        name = f"coffre-bench-{what}-{self.run_id}"
        self._buckets.append(name)
        return name

    # -- Coffre --------------------------------------------------------------------

    def settings(self, dbname: str, bucket: str, **overrides: Any) -> Any:
        """``Settings`` of a PostgreSQL + S3 deployment on ``dbname`` and ``bucket``."""
        from vault.settings import Settings

        pg = self.pg_params
        values: dict[str, Any] = {
            "data_dir": self.work / dbname,
            "database": "postgres",
            "env": "development",
            "pg_host": pg["host"],
            "pg_port": int(pg["port"]),
            "pg_user": pg["user"],
            "pg_dbname": dbname,
            "blob_store": "s3",
            "s3_endpoint": self.s3["endpoint"],
            "s3_access_key": self.s3["access_key"],
            "s3_secret_key": self.s3["secret_key"],
            "s3_bucket": bucket,
            "master_keys": self.master_keys,
            # the enrolment service that approves the readers' devices (``tests.devices``)
            "enrolment_services": DEMO_ENROLMENT,
        }
        if pg.get("password"):
            values["pg_password"] = pg["password"]
        values.update(overrides)
        return Settings(**values)

    def server_env(self, dbname: str, bucket: str, **extra: str) -> dict[str, str]:
        """The ``COFFRE_*`` environment of ``coffre serve`` on ``dbname`` and ``bucket``."""
        pg = self.pg_params
        env = {
            "COFFRE_DATA_DIR": str(self.work / f"serve-{dbname}"),
            "COFFRE_MASTER_KEYS": self.master_keys,
            "COFFRE_LOG_FORMAT": "json",
            "COFFRE_DATABASE": "postgres",
            "COFFRE_ENV": "development",
            "COFFRE_PG_HOST": pg["host"],
            "COFFRE_PG_PORT": pg["port"],
            "COFFRE_PG_USER": pg["user"],
            "COFFRE_PG_DBNAME": dbname,
            "COFFRE_BLOB_STORE": "s3",
            "COFFRE_S3_ENDPOINT": self.s3["endpoint"],
            "COFFRE_S3_ACCESS_KEY": self.s3["access_key"],
            "COFFRE_S3_SECRET_KEY": self.s3["secret_key"],
            "COFFRE_S3_BUCKET": bucket,
            # A real server's clock cannot be moved six weeks on: no opposition period,
            # so a provisioned space is open at once (as tests/scenarios/test_transfers).
            "COFFRE_OPPOSITION_PERIOD": "PT0S",
            "COFFRE_ENROLMENT_SERVICES": DEMO_ENROLMENT,
            # The bench's tokens verified by its issuer's public key, as a deployment
            # trusts an external issuer: no development OpenID provider in the server
            # (authlib and the demo's cast, ~10 MiB that production never loads: row 11).
            "COFFRE_TOKEN_PUBLIC_KEY": self.tokens().public_key_b64,
        }
        if pg.get("password"):
            env["COFFRE_PG_PASSWORD"] = pg["password"]
        if os.environ.get("COFFRE_BENCH_RELAY"):
            # Every upload relayed through the API, as before direct uploads (rows 1, 11):
            # to compare the two paths on the same code.
            env["COFFRE_S3_DIRECT_UPLOADS"] = "false"
        env.update(extra)
        return env

    def tokens(self) -> Any:
        """The development token authority the served API derives from the master key."""
        from keys.master import MasterKeys
        from vault.tokens import TokenAuthority

        master = MasterKeys.from_env(self.master_keys)
        return TokenAuthority.from_seed("coffre", master.derive("token-signing"))

    # -- cleanup -------------------------------------------------------------------

    def close(self) -> None:
        """Drop this run's scratch databases and buckets."""
        for name in self._created:
            with contextlib.suppress(psycopg.Error):
                self.drop_db(name)
        client = self.minio()
        for bucket in self._buckets:
            with contextlib.suppress(Exception):
                if client.bucket_exists(bucket):
                    for obj in client.list_objects(bucket, recursive=True):
                        client.remove_object(bucket, obj.object_name)
                    client.remove_bucket(bucket)
        subprocess.run(["rm", "-rf", str(self.work)], check=False)


class OffsetClock:
    """The wall clock shifted by an offset: time flows, and can be jumped forward
    (past a space's opposition period) the way ``ManualClock.advance`` does."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The shifted current instant."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Jump forward by ``delta``."""
        self.offset += max(delta, timedelta(0))


def open_space(coffre: Any, clock: OffsetClock, patient_id: str, by: Any) -> None:
    """Provision a space and let its opposition period pass (tests/scenarios/conftest)."""
    provisioned = coffre.vault.provision(patient_id, by)
    assert provisioned.opens_at is not None
    clock.advance(provisioned.opens_at - clock.now() + timedelta(seconds=1))


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running ``coffre serve``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def serve(
    env: Mapping[str, str], log: Path, workers: int | None = None, port: int | None = None
) -> Iterator[Served]:
    """Run ``coffre serve`` as an operator does, configured by ``COFFRE_*`` variables
    (on ``port``, else on a free one)."""
    port = port or free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    full_env.update(env)
    full_env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "coffre.cli", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=full_env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise BenchSetupError(f"coffre serve exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchSetupError(f"coffre serve did not answer:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield Served(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def process_tree_rss(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in bytes of ``pid`` and its children (uvicorn workers)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    rss = hwm = 0
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = max(rss, int(line.split()[1]) * 1024)
                elif line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]) * 1024)
    return rss, hwm
