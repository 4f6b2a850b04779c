"""What the fault tests share: a Coffre deployment of their own (env, server, world),
the events it recorded, and the one line each test prints about what it injected.

Servers listen on the fault tier's own ports (``PORTS``); each module takes a slice.
A server is started the way an operator starts it (``coffre serve``), except for a
multi-worker server, whose workers the worker-kill test kills: that one is
``tests.faults.forkserve`` (the same factory under uvicorn, pre-forked: see there), since
``coffre serve`` refuses several workers on the development issuer these tests mint
tokens with, and its supervisor restarts a worker at the price of a whole interpreter.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol_client
from vault.settings import Settings
from vault.tokens import TokenAuthority
from wire.values import Role

#: the fault tier's loopback ports (this module's range: 18300-18399)
PORTS = range(18300, 18400)

HOSPITAL = Actor(Role.SERVICE, "chu-faults", "CHU Faults", organisation="CHU Faults")
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2870675123457"), "Jeanne Faults")


#: what each fault test reported, printed again in the terminal summary (conftest)
def report(request: pytest.FixtureRequest, line: str) -> None:
    """Print ``line`` (``faults: ...``) and record it as a property, which the fault
    tier's terminal summary lists (tests/faults/conftest.py), with or without ``-s``."""
    print(line)
    request.node.user_properties.append(("faults", line))


def require(condition: bool, what: str) -> None:
    """Skip without ``what``, but fail under ``CI=true`` (CI must run every fault test)."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{what}, and CI requires it")
        pytest.skip(what)


def base_env(data_dir: Path) -> dict[str, str]:
    """The ``COFFRE_*`` settings every fault deployment shares."""
    return {
        "COFFRE_DATA_DIR": str(data_dir),
        "COFFRE_MASTER_KEYS": MasterKeys.generate().current.to_line(),
        "COFFRE_LOG_FORMAT": "json",
        "COFFRE_OPPOSITION_PERIOD": "PT0S",
        "COFFRE_ENROLMENT_SERVICES": ENROLMENT.id,
        # the scheduler's own collection would race the test's
        "COFFRE_BLOB_COLLECT_INTERVAL": "PT0S",
    }


def s3_env(pg: Mapping[str, str], s3: Mapping[str, str], bucket: str) -> dict[str, str]:
    """The settings of PostgreSQL + S3 (``s3["endpoint"]`` may be a proxy's)."""
    return {
        "COFFRE_DATABASE": "postgres",
        "COFFRE_ENV": "development",
        "COFFRE_PG_HOST": pg["host"],
        "COFFRE_PG_PORT": pg["port"],
        "COFFRE_PG_USER": pg["user"],
        "COFFRE_PG_DBNAME": pg["dbname"],
        "COFFRE_BLOB_STORE": "s3",
        "COFFRE_S3_ENDPOINT": s3["endpoint"],
        "COFFRE_S3_ACCESS_KEY": s3["access_key"],
        "COFFRE_S3_SECRET_KEY": s3["secret_key"],
        "COFFRE_S3_BUCKET": bucket,
    }


def _process_env(env: Mapping[str, str]) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    return inherited | dict(env)


@contextmanager
def settings_of(env: Mapping[str, str]) -> Iterator[Settings]:
    """The ``Settings`` a server started with ``env`` reads."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(_process_env(env))
        yield Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def server(
    env: Mapping[str, str], port: int, log: Path, *, workers: int = 1, supervised: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """``coffre serve`` on ``port``; with several workers, or ``supervised``, the forking
    supervisor (see above). Stopped on exit."""
    if workers == 1 and not supervised:
        command = [sys.executable, "-m", "coffre.cli", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "tests.faults.forkserve", str(port), str(workers)]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=_process_env(env), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_up(f"http://127.0.0.1:{port}", process, log)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_up(
    url: str, process: subprocess.Popen[bytes] | None, log: Path, timeout: float = 60
) -> None:
    """Poll ``/v1/health`` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"coffre serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"coffre serve did not answer in {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class World:
    """A server's URL, the tokens of its actors and the patient's reader key."""

    url: str
    tokens: dict[str, str]
    reader: ReaderKey

    def hospital(self, **kwargs: Any) -> CoffreClient:
        """The depositing hospital's SDK client."""
        return CoffreClient(self.url, self.tokens["hospital"], **kwargs)

    def patient(self, **kwargs: Any) -> CoffreClient:
        """The patient's SDK client, with their approved reader key."""
        return CoffreClient(self.url, self.tokens["patient"], reader_key=self.reader, **kwargs)


def tokens_for(env: Mapping[str, str]) -> dict[str, str]:
    """Tokens of the hospital, the patient and the enrolment service, minted with the
    deployment's own key (the embedded issuer)."""
    master = MasterKeys.from_env(env["COFFRE_MASTER_KEYS"])
    authority = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
    return {
        "hospital": authority.mint(HOSPITAL),
        "patient": authority.mint(PATIENT),
        "enrolment": authority.mint(ENROLMENT),
    }


def seed(url: str, env: Mapping[str, str]) -> World:
    """Provision and activate the patient's space, approve the patient's reader key."""
    tokens = tokens_for(env)
    reader = ReaderKey.generate()
    with CoffreClient(url, tokens["hospital"]) as hospital:
        provisioned = hospital.provision(PATIENT.id)
    with (
        CoffreClient(url, tokens["patient"], reader_key=reader) as patient,
        CoffreClient(url, tokens["enrolment"]) as enrolment,
    ):
        patient.activate(PATIENT.id, provisioned.one_time_code)
        enrol_client(patient, PATIENT, enrolment)
    return World(url, tokens, reader)


def read_back(world: World, document_id: object) -> bytes:
    """The plaintext of a document, read by the patient."""
    out = io.BytesIO()
    with world.patient() as patient:
        patient.read(PATIENT.id, document_id, out)  # type: ignore[arg-type]
    return out.getvalue()


def deposited(coffre: Any) -> list[Any]:
    """Every ``Deposited`` event of the deployment ``coffre`` (a built ``Coffre``)."""
    from domain.space import Space

    vault = coffre.vault
    topic = f"{Space.Deposited.__module__}:{Space.Deposited.__qualname__}"
    page = vault.recorder.select_notifications(start=1, limit=100_000, topics=[topic])
    return [vault.mapper.to_domain_event(n) for n in page]


def count_events(coffre: Any, cls: type) -> int:
    """How many events of class ``cls`` the deployment recorded."""
    vault = coffre.vault
    topic = f"{cls.__module__}:{cls.__qualname__}"
    return len(vault.recorder.select_notifications(start=1, limit=100_000, topics=[topic]))
