"""Rows 4 and 5: recorded reads per second under 16 concurrent callers.

Row 4 calls ``Vault.read`` (authorise on the space as stored, record and commit the
``Access.Read``, reseal the data key, sign a content ticket) from 16 threads of one
process, as the API's thread pool does, against 16 threads doing raw single-row
autocommit INSERTs of event-sized rows into a table shaped like ``vault_events``. The
vault group-commits concurrent reads' records (``vault.groupcommit``); the row's notes
say how many reads shared a transaction on average.

Row 5 drives ``coffre serve`` (its documented setup: ``COFFRE_WORKERS``, default 1)
with 16 concurrent HTTP clients calling ``POST .../reads`` (the recorded read and key
release), against the same server's ``GET /v1/health``.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from bench.cli import Options
from bench.deploy import deployment
from bench.deploy import deposit as sdk_deposit
from bench.env import BenchEnv, OffsetClock, open_space
from bench.report import Report, Row
from bench.timing import concurrent_rate
from domain.values import Actor, patient_id_from_number
from wire.envelope import DataKey, encrypt, seal
from wire.values import DocumentMetadata, DocumentType, Role

CALLERS = 16
DOC_SIZE = 4096

DESCRIBE_SERVICE = {
    "4": (
        "recorded reads/s, 16 concurrent vault callers (no HTTP)",
        "reads/s",
        ">=",
        0.25,
        "ratio",
    ),
}
DESCRIBE_HTTP = {
    "5": ("recorded reads/s through the HTTP API, 16 clients", "req/s", ">=", 0.3, "ratio"),
}

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_inserts (
    originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text,
    state bytea, notification_id bigserial NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX IF NOT EXISTS bench_raw_inserts_nid ON bench_raw_inserts (notification_id);
"""


def _rounds(opts: Options) -> int:
    return 1 if opts.quick else 2


def raw_inserts(env: BenchEnv, dbname: str, seconds: float) -> tuple[float, list[str]]:
    """Single-row autocommit INSERTs/s of event-sized rows, ``CALLERS`` connections."""
    with env.connect(dbname, autocommit=True) as conn:
        conn.execute(RAW_TABLE)
    state = os.urandom(450)
    opened: list[Any] = []

    def work(_: int) -> Callable[[], Any]:
        conn = env.connect(dbname, autocommit=True)
        opened.append(conn)

        def op() -> None:
            conn.execute(
                "INSERT INTO bench_raw_inserts (originator_id, originator_version, topic, state)"
                " VALUES (%s, 1, 'domain.access:Access.Read', %s)",
                [uuid.uuid4(), state],
            )

        return op

    try:
        rate, _, errors = concurrent_rate(work, CALLERS, seconds)
    finally:
        for conn in opened:  # the server is shared: give the connections back now
            conn.close()
    return rate, errors


def run_service(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 4."""
    from coffre.bootstrap import build
    from tests.devices import enrol

    dbname = env.create_db(env.scratch_name("reads"))
    clock = OffsetClock()
    settings = env.settings(dbname, env.bucket("reads"))
    coffre = build(settings, clock=clock)
    try:
        vault = coffre.vault
        hospital = Actor(Role.SERVICE, "chu-bench", "CHU de Bench", organisation="CHU de Bench")
        people = []
        for n in range(CALLERS):
            patient_id = patient_id_from_number(f"2900175{n:06d}")
            open_space(coffre, clock, patient_id, hospital)
            actor = Actor(Role.PATIENT, patient_id, f"Patient {n}")
            _, key_id = enrol(vault, actor)
            data_key = DataKey.generate()
            receipt = vault.upload(patient_id, encrypt([os.urandom(DOC_SIZE)], data_key), hospital)
            space_key = vault.space_key(patient_id)
            sealed = seal(data_key, base64.b64decode(space_key.public_key))
            deposit = vault.deposit(
                patient_id,
                receipt.ticket,
                DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 1)),
                sealed,
                hospital,
            )
            people.append((patient_id, deposit.document_id, actor, key_id))

        def reads(i: int) -> Callable[[], Any]:
            patient_id, document_id, actor, key_id = people[i]
            return lambda: vault.read(patient_id, document_id, actor, key_id)

        concurrent_rate(reads, CALLERS, 0.3)  # warm up
        commits = vault.access_commits
        batches, records = commits.batches, commits.records
        ours, base, errors = [], [], []
        for _ in range(_rounds(opts)):
            rate, errs = raw_inserts(env, dbname, opts.seconds)
            base.append(rate)
            errors += errs
            rate, _, errs = concurrent_rate(reads, CALLERS, opts.seconds)
            ours.append(rate)
            errors += errs
        if errors:
            raise RuntimeError("; ".join(errors[:3]))
        per_batch = (commits.records - records) / max(1, commits.batches - batches)
        mean = sum(base) / len(base)
        pool = settings.pg_pool_size
        report.add(
            Row(
                "4",
                DESCRIBE_SERVICE["4"][0],
                "reads/s",
                sum(ours) / len(ours),
                mean,
                "raw single-row autocommit INSERTs/s, 16 connections",
                ">=",
                DESCRIBE_SERVICE["4"][3],
                notes=[
                    f"{opts.seconds:.0f} s per load, {_rounds(opts)} round(s), interleaved; "
                    f"event-store pool {pool} + overflow 10 (deployed defaults)",
                    f"group commit: {per_batch:.1f} reads recorded per transaction on average",
                ],
            )
        )
    finally:
        coffre.close()


def run_http(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 5."""
    from vault.settings import Settings

    workers = opts.workers or Settings.model_fields["workers"].default
    with deployment(env, "http", patients=CALLERS, workers=workers) as deploy:
        for patient in deploy.patients:
            sdk_deposit(deploy, patient, os.urandom(DOC_SIZE))

        def read_work(i: int) -> Callable[[], Any]:
            patient = deploy.patients[i]
            client = httpx.Client(
                base_url=deploy.url, headers={"Authorization": f"Bearer {patient.token}"}
            )
            url = f"/v1/spaces/{patient.actor.id}/documents/{patient.documents[0]}/reads"
            body = {"reader_key_id": patient.reader.key_id}

            def op() -> None:
                client.post(url, json=body).raise_for_status()

            return op

        def health_work(_: int) -> Callable[[], Any]:
            client = httpx.Client(base_url=deploy.url)
            return lambda: client.get("/v1/health").raise_for_status()

        concurrent_rate(read_work, CALLERS, 0.3)
        concurrent_rate(health_work, CALLERS, 0.3)
        ours, base, errors = [], [], []
        for _ in range(_rounds(opts)):
            rate, _, errs = concurrent_rate(health_work, CALLERS, opts.seconds)
            base.append(rate)
            errors += errs
            rate, _, errs = concurrent_rate(read_work, CALLERS, opts.seconds)
            ours.append(rate)
            errors += errs
        if errors:
            raise RuntimeError("; ".join(errors[:3]))
    report.add(
        Row(
            "5",
            DESCRIBE_HTTP["5"][0],
            "req/s",
            sum(ours) / len(ours),
            sum(base) / len(base),
            "same server's GET /v1/health",
            ">=",
            0.3,
            notes=[
                f"coffre serve with {workers} worker(s) (COFFRE_WORKERS default), "
                f"{CALLERS} keep-alive httpx clients in threads of one process on the same "
                "machine; a read = POST .../reads (record + key release)"
            ],
        )
    )
