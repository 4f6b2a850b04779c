"""Build the committed stores of commit c5f137c: events, key store, blobs, trail, keys.

Run once, on the code of c5f137c (before keys were kept apart), so that the stores are
exactly what a deployment of that day holds:

    .venv/bin/python -m tests.replay.make_keys_store tests/replay/stores/c5f137c

It writes, for each backend pairing:

- ``embedded/data/``: the data directory of the embedded mode (``coffre.db`` with
  events, key store, views and trail; ``master.keys``; ``blobs/``), as ``coffre serve``
  leaves it;
- ``postgres/``: ``dump.sql`` (``pg_dump`` of the PostgreSQL database), ``blobs/`` (every
  S3 object, by name) and ``master_keys.txt`` (the ``COFFRE_MASTER_KEYS`` value);

and, in each, ``expected.json``: the documents (plaintext, reader), the readers' secret
keys, the checkpoints signed that day and the trail public key, and ``export.jsonl``,
a whole-log trail export of that day. Secrets here are test data, made for this store.
``tests/replay/test_keys_store.py`` opens copies of both with today's code.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from nacl.public import PrivateKey

from coffre.bootstrap import Coffre, build
from domain.values import Actor, Scope, ScopeKind, patient_id_from_number
from domain.values import professional_id_from_number as rpps
from keys.master import MasterKeys
from projections.trail_export import TrailQuery
from tests.scenarios.conftest import Person, deposit, read
from tests.served import scratch_bucket, scratch_database
from vault.clock import ManualClock
from vault.settings import Settings
from wire.values import Profession, Role

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
DOCTOR = Actor(Role.PROFESSIONAL, rpps("1000000011"), "Dr Durand", Profession.DOCTOR, "Cabinet")
PATIENTS = [patient_id_from_number(n) for n in ("2870675000301", "1850575000302", "1850575000303")]


def story(settings: Settings) -> dict[str, Any]:
    """Provision, deposit, grant, read, checkpoint, export, shred: a day's history."""
    clock = ManualClock(T0)
    coffre = build(settings, clock=clock)
    try:
        for patient_id in PATIENTS:
            opens_at = coffre.vault.provision(patient_id, HOSPITAL).opens_at
        assert opens_at is not None
        clock.advance(opens_at - clock.now() + timedelta(minutes=1))
        readers: dict[str, Any] = {}
        for actor in [DOCTOR, *(Actor(Role.PATIENT, p, f"Patient {p[-3:]}") for p in PATIENTS)]:
            secret = PrivateKey.generate()
            key_id = coffre.vault.register_reader_key(actor, bytes(secret.public_key))
            readers[actor.id] = {
                "role": actor.role.value,
                "name": actor.name,
                "profession": actor.profession.value if actor.profession else None,
                "organisation": actor.organisation,
                "key_id": key_id,
                "secret": bytes(secret).hex(),
            }
        documents = []
        for number, patient_id in enumerate(PATIENTS):
            for copy in range(2):
                plaintext = f"compte rendu {copy} du patient {number}".encode()
                document_id = deposit(coffre, patient_id, plaintext, HOSPITAL)
                documents.append(
                    {"patient_id": patient_id, "id": str(document_id), "plaintext": plaintext.hex()}
                )
        patient = Actor(Role.PATIENT, PATIENTS[0], readers[PATIENTS[0]]["name"])
        coffre.vault.grant(PATIENTS[0], DOCTOR, Scope(ScopeKind.SPACE), None, patient)
        coffre.runner.catch_up()
        first = coffre.trail.checkpoint()
        clock.advance(timedelta(hours=1))
        # a read by the doctor, then the third patient's space is shredded
        doctor = _person(DOCTOR, readers[DOCTOR.id])
        assert read(coffre, PATIENTS[0], UUID(documents[0]["id"]), doctor) == bytes.fromhex(
            documents[0]["plaintext"]
        )
        shredded = Actor(Role.PATIENT, PATIENTS[2], readers[PATIENTS[2]]["name"])
        coffre.vault.close_space(PATIENTS[2], shredded, express_deletion=True)
        coffre.runner.catch_up()
        clock.advance(timedelta(minutes=5))
        second = coffre.trail.checkpoint()
        export = _export(coffre)
        return {
            "made_by": "c5f137c",
            "readers": readers,
            "documents": documents,
            "shredded_patient": PATIENTS[2],
            "checkpoints": [first.to_json(), second.to_json()],
            "trail_public_key": base64.b64encode(coffre.trail.signer.public_key).decode(),
            "trail_key_id": coffre.trail.signer.key_id,
            "export": export,
        }
    finally:
        coffre.close()


def _person(actor: Actor, reader: dict[str, Any]) -> Person:
    return Person(actor, PrivateKey(bytes.fromhex(reader["secret"])), reader["key_id"])


def _export(coffre: Coffre) -> str:
    out = io.StringIO()
    coffre.trail.export_jsonl(TrailQuery(), out)
    return out.getvalue()


def _write(target: Path, facts: dict[str, Any]) -> None:
    (target / "export.jsonl").write_text(facts.pop("export"), encoding="utf-8")
    (target / "expected.json").write_text(
        json.dumps(facts, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def embedded(target: Path) -> None:
    """The embedded data directory (``data/``), as a laptop of that day holds it."""
    out = target / "embedded"
    shutil.rmtree(out, ignore_errors=True)
    work = out / "work"
    facts = story(Settings(data_dir=work))
    data = out / "data"
    data.mkdir(mode=0o700)
    shutil.copytree(work / "blobs", data / "blobs")
    shutil.copy2(work / "master.keys", data / "master.keys")
    # one self-contained database file (the WAL folded in), copied by SQLite itself
    with sqlite3.connect(work / "coffre.db") as source, sqlite3.connect(data / "coffre.db") as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    shutil.rmtree(work)
    _write(out, facts)


def postgres(target: Path) -> None:
    """The PostgreSQL database (dumped) and the S3 bucket (its objects, by name)."""
    out = target / "postgres"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    admin = os.environ.get("COFFRE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")
    s3 = {
        "endpoint": os.environ["COFFRE_TEST_S3_ENDPOINT"],
        "access_key": os.environ["COFFRE_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["COFFRE_TEST_S3_SECRET_KEY"],
    }
    master = MasterKeys.generate().current.to_line()
    with scratch_database(admin, "coffre_mk") as pg, scratch_bucket(s3, "coffre-mk") as bucket:
        settings = Settings(
            data_dir=out / "unused",
            database="postgres",
            env="development",
            pg_host=pg["host"],
            pg_port=int(pg["port"]),
            pg_user=pg["user"],
            pg_dbname=pg["dbname"],
            blob_store="s3",
            s3_endpoint=s3["endpoint"],
            s3_access_key=s3["access_key"],
            s3_secret_key=s3["secret_key"],
            s3_bucket=bucket,
            master_keys=master,
        )
        facts = story(settings)
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                "-h",
                pg["host"],
                "-p",
                str(pg["port"]),
                "-U",
                pg["user"],
                pg["dbname"],
            ],
            check=True,
            capture_output=True,
        ).stdout
        (out / "dump.sql").write_bytes(dump)
        from vault.blobstore_s3 import S3BlobStore

        store = S3BlobStore(s3["endpoint"], s3["access_key"], s3["secret_key"], bucket)
        (out / "blobs").mkdir()
        for name in store.names():
            (out / "blobs" / name).write_bytes(b"".join(store.open(name)))
    shutil.rmtree(out / "unused", ignore_errors=True)
    (out / "master_keys.txt").write_text(master + "\n", encoding="ascii")
    _write(out, facts)


if __name__ == "__main__":
    root = Path(sys.argv[1])
    root.mkdir(parents=True, exist_ok=True)
    embedded(root)
    postgres(root)
