"""Rows 12 and 13: a read, a deposit and a grant cost the same in a big space as in a
small one.

One ``Coffre`` on PostgreSQL + Ceph RGW, in-process ``Vault`` calls from one thread.
One space per size (10, 1,000 and 5,000 documents; quick: 10, 100, 500), grown with
real ``Deposited`` events (recorded 100 per transaction through ``Vault.on_space`` so
that growing stays quick) and a few grants. Then, interleaved over the sizes so that
a noisy neighbour hits every size alike:

* reads: ``Vault.read`` by a granted professional (authorise on the space as stored,
  record, reseal, ticket), after a warm-up; p50 and p99 per size;
* deposits: ``Vault.deposit`` of an already uploaded 4 KiB envelope (the upload, an
  S3 PUT whose cost does not depend on the space, is done untimed beforehand);
* grants: ``Vault.grant`` to a new professional.

Each row is the figure in the big space divided by the same figure in the space of 10.
"""

from __future__ import annotations

import base64
import os
import statistics
import uuid
from datetime import date
from typing import Any

from bench.cli import Options
from bench.env import BenchEnv, OffsetClock, open_space
from bench.report import Report, Row
from bench.timing import percentile, timed
from domain.values import Actor, Ciphertext, Scope, patient_id_from_number
from domain.values import professional_id_from_number as pro_id
from wire.envelope import DataKey, encrypt, seal
from wire.values import DocumentMetadata, DocumentType, Profession, Role

DESCRIBE = {
    "12": ("read p50 / p99 in a big space vs a space of 10 documents", "ms", "<=", 1.3, "ratio"),
    "13": ("deposit and grant in a big space vs a space of 10 documents", "ms", "<=", 1.3, "ratio"),
}

SMALL = 10
BATCH = 100  # deposits recorded per transaction while growing a space
META = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 1))


def _sizes(opts: Options) -> tuple[int, int]:
    return (100, 500) if opts.quick else (1_000, 5_000)


def _grow(coffre: Any, patient_id: str, size: int, sealed: bytes, hospital: Actor) -> uuid.UUID:
    """Record ``size`` deposits in the space; returns the last document's id."""
    last = uuid.uuid4()

    def batch(count: int) -> Any:
        def command(space: Any, now: Any) -> None:
            nonlocal last
            for _ in range(count):
                last = uuid.uuid4()
                blob = uuid.uuid4().hex  # never fetched: reads here release keys only
                space.deposit(last, META, Ciphertext(blob, 4096, "0" * 64), sealed, hospital, now)

        return command

    for start in range(0, size, BATCH):
        coffre.vault.on_space(patient_id, hospital, batch(min(BATCH, size - start)))
    return last


def run(env: BenchEnv, report: Report, opts: Options) -> None:
    """Rows 12 and 13."""
    from coffre.bootstrap import build
    from tests.devices import enrol

    dbname = env.create_db(env.scratch_name("spacesize"))
    clock = OffsetClock()
    coffre = build(env.settings(dbname, env.bucket("spacesize")), clock=clock)
    vault = coffre.vault
    hospital = Actor(Role.SERVICE, "chu-bench", "CHU de Bench", organisation="CHU de Bench")
    doctor = Actor(Role.PROFESSIONAL, pro_id("1000000001"), "Dr Bench", Profession.DOCTOR, "Cab")
    _, reader_key = enrol(vault, doctor)  # an approved reader device, as row 4 does
    sizes = (SMALL, *_sizes(opts))
    spaces: dict[int, tuple[str, Actor, uuid.UUID]] = {}
    try:
        for n, size in enumerate(sizes):
            patient_id = patient_id_from_number(f"2900175{n:06d}")
            open_space(coffre, clock, patient_id, hospital)
            patient = Actor(Role.PATIENT, patient_id, f"Patient {n}")
            public = base64.b64decode(vault.space_key(patient_id).public_key)
            sealed = seal(DataKey.generate(), public)
            for g in range(3):  # a few grants, as a space has
                grantee = Actor(
                    Role.PROFESSIONAL, pro_id(f"20000{n}{g:04d}"), "Dr G", Profession.DOCTOR, "Cab"
                )
                vault.grant(patient_id, grantee, Scope.whole_space(), None, patient)
            vault.grant(patient_id, doctor, Scope.whole_space(), None, patient)
            spaces[size] = (patient_id, patient, _grow(coffre, patient_id, size, sealed, hospital))

        reads = 50 if opts.quick else 200
        writes = 10 if opts.quick else 40
        read_ms: dict[int, list[float]] = {s: [] for s in sizes}
        deposit_ms: dict[int, list[float]] = {s: [] for s in sizes}
        grant_ms: dict[int, list[float]] = {s: [] for s in sizes}

        def read(size: int) -> None:
            patient_id, _, document_id = spaces[size]
            vault.read(patient_id, document_id, doctor, reader_key)

        for _ in range(10):  # warm-up: caches, connections, prepared plans
            for size in sizes:
                read(size)
        for i in range(reads):
            for size in sizes if i % 2 == 0 else sizes[::-1]:
                read_ms[size].append(timed(lambda s=size: read(s)) * 1000)
        for i in range(writes):
            for size in sizes if i % 2 == 0 else sizes[::-1]:
                patient_id, patient, _ = spaces[size]
                key = DataKey.generate()
                receipt = vault.upload(patient_id, encrypt([os.urandom(4096)], key), hospital)
                public = base64.b64decode(vault.space_key(patient_id).public_key)
                sealed = seal(key, public)
                deposit_ms[size].append(
                    timed(
                        lambda p=patient_id, r=receipt.ticket, k=sealed: vault.deposit(
                            p, r, META, k, hospital
                        )
                    )
                    * 1000
                )
                grantee = Actor(
                    Role.PROFESSIONAL, pro_id(f"3{i:05d}{size:04d}"), "Dr N", Profession.DOCTOR, "C"
                )
                grant_ms[size].append(
                    timed(
                        lambda p=patient_id, a=patient, g=grantee: vault.grant(
                            p, g, Scope.whole_space(), None, a
                        )
                    )
                    * 1000
                )
    finally:
        coffre.close()

    small = sizes[0]
    note = (
        f"sizes {', '.join(str(s) for s in sizes)} documents; {reads} reads and {writes} "
        "deposits and grants per size, interleaved over the sizes; one thread, in-process"
    )
    figures = {
        size: {
            "read p50": percentile(read_ms[size], 50),
            "read p99": percentile(read_ms[size], 99),
            "deposit": statistics.median(deposit_ms[size]),
            "grant": statistics.median(grant_ms[size]),
        }
        for size in sizes
    }
    table = "; ".join(
        f"{size}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures[size].items()) + " ms"
        for size in sizes
    )

    def row(row_id: str, big: int, what: str, target: float, notes: list[str]) -> None:
        report.add(
            Row(
                row_id,
                f"{what} at {big:,} documents vs at {small}",
                "ms",
                figures[big][what],
                figures[small][what],
                f"{what} at {small} documents",
                "<=",
                target,
                notes=notes,
            )
        )

    row("12a", sizes[1], "read p50", 1.3, [note, table])
    row("12b", sizes[1], "read p99", 1.5, [])
    row("12c", sizes[2], "read p50", 1.3, [])
    row("12d", sizes[2], "read p99", 1.5, [])
    row("13a", sizes[2], "deposit", 1.3, ["deposit and grant: medians"])
    row("13b", sizes[2], "grant", 1.3, [])
