"""Fuzzing fixtures: a real ``coffre serve`` per backend, with a small world seeded.

The world gives fuzzed path parameters something real to hit: a provisioned and
activated space, a deposited document, a grant to a professional who read it, a
registered reader key and a representative. Tokens for every role (patient,
professional, service, regulator) come from the deployment's own token authority,
derived from the master key the server is started with.

The server is module-scoped (one per backend for every test of a module), so its
database and bucket are made here rather than by the function-scoped fixtures.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol_client
from tests.scenarios.conftest import BACKENDS, clock, coffre  # noqa: F401 - the poison test's
from tests.served import scratch_bucket, scratch_database, serve
from vault.tokens import TokenAuthority
from wire.values import Profession, Role

HOSPITAL = Actor(Role.SERVICE, "chu-fuzz", "CHU Fuzz", organisation="CHU Fuzz")
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2870675123456"), "Jeanne Fuzz")
#: a second patient with a space of their own: the first one's requests must not reach it
NEIGHBOUR = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Fuzz")
DOCTOR = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("1000000001"),
    "Dr Paul Fuzz",
    profession=Profession.DOCTOR,
    organisation="Cabinet Fuzz",
)
REGULATOR = Actor(Role.REGULATOR, "cnil-fuzz", "CNIL Fuzz")
#: the civil registry the server authorises to appoint legal representatives
REGISTRY = Actor(Role.SERVICE, "registre-fuzz", "Registre Fuzz")
#: the INS of a legal representative (a guardian) of the patient
REPRESENTATIVE_ID = patient_id_from_number("1650599111222")

ROLES: dict[str, Actor] = {
    "patient": PATIENT,
    "professional": DOCTOR,
    "service": HOSPITAL,
    "regulator": REGULATOR,
}


@dataclass
class World:
    """A running server, its backend, tokens for every role and the ids it holds."""

    backend: str
    url: str
    log: Path
    tokens: dict[str, str]
    patient_id: str
    neighbour_id: str
    professional_id: str
    representative_id: str
    document_id: UUID
    grant_id: UUID
    reader_key_ids: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """The bearer header of ``role``."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _seed(url: str, tokens: dict[str, str]) -> dict[str, object]:
    """Provision, activate, deposit, grant, read: what the fuzzed routes can then find."""
    with CoffreClient(url, tokens["service"]) as hospital:
        provisioned = hospital.provision(PATIENT.id)
        hospital.provision(NEIGHBOUR.id)
        document_id, _ = hospital.deposit(
            PATIENT.id, b"bilan", type="lab_result", title="Bilan", date=date(2026, 10, 1)
        )
    # A guardian, appointed by the registry on a court decision (where the API asks for
    # the basis) or, on a tree without registries, by the service.
    person = {"id": REPRESENTATIVE_ID, "name": "Tuteur Fuzz", "kind": "guardian"}
    basis = {"reference": "TJ Lyon 26/00042", "date": "2026-01-15"}
    for role, body in (
        ("registry", {"representative": person, "basis": basis}),
        ("service", {"representative": person}),
    ):
        answer = httpx.post(
            f"{url}/v1/spaces/{PATIENT.id}/representatives",
            json=body,
            headers={"Authorization": f"Bearer {tokens[role]}"},
            timeout=30,
        )
        if answer.is_success:
            break
    enrolment = CoffreClient(url, tokens["enrolment"])
    patient_reader = ReaderKey.generate()
    with CoffreClient(url, tokens["patient"], reader_key=patient_reader) as patient, enrolment:
        patient.activate(PATIENT.id, provisioned.one_time_code)
        patient_key = enrol_client(patient, PATIENT, enrolment)
        grant_id = patient.grant(
            PATIENT.id,
            {
                "id": DOCTOR.id,
                "name": DOCTOR.name,
                "profession": "doctor",
                "organisation": DOCTOR.organisation,
            },
        )
    doctor_reader = ReaderKey.generate()
    with (
        CoffreClient(url, tokens["professional"], reader_key=doctor_reader) as doctor,
        CoffreClient(url, tokens["enrolment"]) as enrolment,
    ):
        doctor_key = enrol_client(doctor, DOCTOR, enrolment)
        doctor.read(PATIENT.id, document_id, io.BytesIO())
    return {
        "document_id": document_id,
        "grant_id": grant_id,
        "reader_key_ids": {"patient": patient_key, "professional": doctor_key},
    }


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """``coffre serve`` on one backend pairing with the seeded world."""
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(f"fuzz-{backend}")
    master = MasterKeys.generate()
    env = {
        "COFFRE_DATA_DIR": str(tmp / "data"),
        "COFFRE_MASTER_KEYS": master.current.to_line(),
        "COFFRE_LOG_FORMAT": "json",
        "COFFRE_OPPOSITION_PERIOD": "PT0S",
        "COFFRE_REGISTRY_SERVICES": REGISTRY.id,
        "COFFRE_ENROLMENT_SERVICES": ENROLMENT.id,
    }
    with _backend_env(request, backend) as extra:
        env |= extra
        authority = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
        tokens = {role: authority.mint(actor) for role, actor in ROLES.items()}
        tokens["registry"] = authority.mint(REGISTRY)
        tokens["enrolment"] = authority.mint(ENROLMENT)
        log = tmp / "server.log"
        with serve(env, log) as (url, _), _projection_worker(env, tmp, backend):
            seeded = _seed(url, tokens)
            yield World(
                backend=backend,
                url=url,
                log=log,
                tokens=tokens,
                patient_id=PATIENT.id,
                neighbour_id=NEIGHBOUR.id,
                professional_id=DOCTOR.id,
                representative_id=REPRESENTATIVE_ID,
                document_id=seeded["document_id"],  # type: ignore[arg-type]
                grant_id=seeded["grant_id"],  # type: ignore[arg-type]
                reader_key_ids=seeded["reader_key_ids"],  # type: ignore[arg-type]
            )


@contextmanager
def _projection_worker(env: dict[str, str], tmp: Path, backend: str) -> Iterator[None]:
    """On PostgreSQL, projections run in their own process, as an operator runs them."""
    if backend == "sqlite-fs":
        yield
        return
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    with (tmp / "projections.log").open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "projections", "run"],
            env=full_env | env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


@contextmanager
def _backend_env(request: pytest.FixtureRequest, backend: str) -> Iterator[dict[str, str]]:
    """The ``COFFRE_*`` variables of ``postgres-s3``: a scratch database and bucket."""
    if backend == "sqlite-fs":
        yield {}
        return
    s3 = request.getfixturevalue("s3_server")
    with (
        scratch_database(request.getfixturevalue("pg_server"), "coffre_fuzz") as pg,
        scratch_bucket(s3, "coffre-fuzz") as bucket,
    ):
        yield {
            "COFFRE_DATABASE": "postgres",
            "COFFRE_ENV": "development",  # the embedded issuer mints the roles' tokens
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
