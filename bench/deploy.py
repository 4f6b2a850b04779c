"""A served Coffre (``coffre serve`` on PostgreSQL + S3) with patients, for rows 1, 2, 5, 11."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

from bench.env import BenchEnv, Served, serve
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from domain.values import Actor, patient_id_from_number
from tests.devices import ENROLMENT, enrol_client
from wire.values import Role

HOSPITAL = Actor(Role.SERVICE, "chu-bench", "CHU de Bench", organisation="CHU de Bench")


@dataclass
class Patient:
    """A patient of the served deployment, holding a registered reader key."""

    actor: Actor
    token: str
    reader: ReaderKey
    key_path: Path
    documents: list[UUID] = field(default_factory=list)


@dataclass
class Deployment:
    """A running server, its database and bucket, and the tokens it accepts."""

    served: Served
    dbname: str
    bucket: str
    hospital_token: str
    patients: list[Patient]

    @property
    def url(self) -> str:
        """The API's base URL."""
        return self.served.url


def patient_actor(n: int) -> Actor:
    """Patient number ``n`` of a bench deployment."""
    return Actor(Role.PATIENT, patient_id_from_number(f"2900175{n:06d}"), f"Patient {n}")


@contextlib.contextmanager
def deployment(
    env: BenchEnv, what: str, patients: int = 1, workers: int | None = None
) -> Iterator[Deployment]:
    """Serve a fresh database and bucket; provision ``patients`` patients (open at once:
    the server runs with no opposition period) each with a registered reader key."""
    dbname = env.create_db(env.scratch_name(what))
    bucket = env.bucket(what.replace("_", "-"))
    log = env.work / f"serve-{what}.log"
    tokens = env.tokens()
    with serve(env.server_env(dbname, bucket), log, workers=workers) as served:
        hospital_token = tokens.mint(HOSPITAL)
        people = []
        enrolment = CoffreClient(served.url, tokens.mint(ENROLMENT))
        with CoffreClient(served.url, hospital_token) as hospital, enrolment:
            for n in range(patients):
                actor = patient_actor(n)
                hospital.provision(actor.id)
                reader = ReaderKey.generate()
                path = env.work / f"{what}-reader-{n}.key"
                reader.save(path)
                token = tokens.mint(actor)
                with CoffreClient(served.url, token, reader_key=reader) as client:
                    enrol_client(client, actor, enrolment)
                people.append(Patient(actor, token, reader, path))
        yield Deployment(served, dbname, bucket, hospital_token, people)


def deposit(deploy: Deployment, patient: Patient, data: bytes, title: str = "Bilan") -> UUID:
    """Deposit ``data`` for ``patient`` as the hospital, through the SDK."""
    with CoffreClient(deploy.url, deploy.hospital_token) as hospital:
        document_id, _ = hospital.deposit(
            patient.actor.id, data, type="lab_result", title=title, date=date(2026, 10, 1)
        )
    patient.documents.append(document_id)
    return document_id
