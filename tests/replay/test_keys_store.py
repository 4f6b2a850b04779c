"""Stores made by the code of c5f137c (one master key, derived trail and token keys)
still start, replay, open every document and keep their trail verifiable.

``stores/c5f137c`` was written by ``tests/replay/make_keys_store.py`` on commit c5f137c:
the embedded data directory (SQLite, files, ``master.keys``) and a PostgreSQL database
(``pg_dump``) with its S3 objects. Each test opens a copy with today's code: the keys
that were derived from the master key keep their values (``coffre.keysources``), the
checkpoints of that day verify, and the master key of that day rotates and retires.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from minio import Minio
from pydantic import SecretStr

from client.trail_verify import verify_export
from coffre import keysources
from coffre.bootstrap import Coffre, build
from coffre.keysources import LEGACY_TOKEN_KEY
from domain.values import Actor
from keys.master import MasterKeys
from keys.sources import FileKeySource
from projections.runner import wait_for
from projections.trail_export import TrailQuery
from tests.devices import enrol
from tests.scenarios.conftest import Person, deposit, postgres_s3_settings, read
from vault.blobstore_s3 import S3BlobStore
from vault.clock import ManualClock
from vault.settings import Settings
from vault.tokens import TokenAuthority
from wire.checkpoint import Checkpoint, verify_checkpoint
from wire.errors import CoffreError
from wire.values import Profession, Role

STORES = Path(__file__).parent / "stores" / "c5f137c"
#: after everything the store's history did (its last checkpoint is of 2026-04-13)
NOW = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)


@dataclass
class Legacy:
    """A copy of one committed store, opened by today's code."""

    settings: Settings
    expected: dict[str, Any]
    export: str


def embedded_copy(tmp_path: Path) -> Settings:
    """The embedded data directory, copied as an operator would restore it (0700/0600)."""
    data = tmp_path / "data"
    shutil.copytree(STORES / "embedded" / "data", data)
    os.chmod(data, 0o700)
    os.chmod(data / "master.keys", 0o600)
    return Settings(data_dir=data)


def postgres_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The dumped database restored into a scratch one, the objects into a scratch bucket."""
    pg = request.getfixturevalue("pg_database")
    s3 = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    source = STORES / "postgres"
    subprocess.run(
        [
            "psql",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            pg["host"],
            "-p",
            str(pg["port"]),
            "-U",
            pg["user"],
            "-d",
            pg["dbname"],
            "-f",
            str(source / "dump.sql"),
        ],
        check=True,
        capture_output=True,
    )
    S3BlobStore(s3["endpoint"], s3["access_key"], s3["secret_key"], bucket).ensure_bucket()
    # restored as a backup would be: each object under its own name
    client = Minio(s3["endpoint"], s3["access_key"], s3["secret_key"], secure=False)
    for blob in sorted((source / "blobs").iterdir()):
        client.fput_object(bucket, blob.name, str(blob))
    # readers of an older store add a device (``person``): the test enrolment service
    # of these settings approves them
    master = (source / "master_keys.txt").read_text().strip()
    return postgres_s3_settings(tmp_path / "data", pg, s3, bucket, master_keys=master)


@pytest.fixture(
    params=["sqlite-fs", pytest.param("postgres-s3", marks=[pytest.mark.postgres, pytest.mark.s3])]
)
def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> Legacy:
    """A copy of the store of one backend pairing, not yet opened."""
    name = "embedded" if request.param == "sqlite-fs" else "postgres"
    settings = embedded_copy(tmp_path) if name == "embedded" else postgres_copy(request, tmp_path)
    expected = json.loads((STORES / name / "expected.json").read_text())
    export = (STORES / name / "export.jsonl").read_text()
    return Legacy(settings, expected, export)


@pytest.fixture
def opened(legacy: Legacy) -> Iterator[Coffre]:
    """Today's code, started on the copy (migrations applied as at an upgrade)."""
    coffre = build(legacy.settings, clock=ManualClock(NOW))
    try:
        yield coffre
    finally:
        coffre.close()


def person(coffre: Coffre, expected: dict[str, Any], actor_id: str) -> Person:
    """A reader of the store, as the actor of that day, reading with a device added and
    approved now: keys registered before reader devices are legacy (listed, revocable,
    never sealed to), so every reader of an older store adds a device."""
    reader = expected["readers"][actor_id]
    profession = Profession(reader["profession"]) if reader["profession"] else None
    actor = Actor(
        Role(reader["role"]), actor_id, reader["name"], profession, reader["organisation"]
    )
    secret, key_id = enrol(coffre.vault, actor)
    return Person(actor, secret, key_id)


def test_every_document_still_opens_and_shredded_ones_stay_shut(
    legacy: Legacy, opened: Coffre
) -> None:
    expected = legacy.expected
    opened_count = 0
    for document in expected["documents"]:
        patient = person(opened, expected, document["patient_id"])
        if document["patient_id"] == expected["shredded_patient"]:
            with pytest.raises(CoffreError):
                read(opened, patient.actor.id, UUID(document["id"]), patient)
            continue
        plaintext = read(opened, patient.actor.id, UUID(document["id"]), patient)
        assert plaintext == bytes.fromhex(document["plaintext"])
        opened_count += 1
    assert opened_count == 4


def test_the_derived_keys_become_explicit_and_keep_their_values(
    legacy: Legacy, opened: Coffre
) -> None:
    expected = legacy.expected
    settings = opened.settings
    master = opened.keyring.master
    # the trail keeps the key of that day, now named and published from its first checkpoint
    assert opened.trail.signer.key_id == expected["trail_key_id"]
    (published,) = opened.trail.keys.key_set().keys
    assert published.key_id == expected["trail_key_id"]
    assert published.not_after is None
    assert published.not_before == Checkpoint.from_json(expected["checkpoints"][0]).at
    # a token the issuer of that day minted (derived, no key id) still verifies
    that_day = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
    reader = expected["readers"][expected["documents"][0]["patient_id"]]
    patient = Actor(Role(reader["role"]), expected["documents"][0]["patient_id"], reader["name"])
    assert opened.tokens.verify(that_day.mint(patient)).id == patient.id
    if settings.embedded:
        # embedded: the derived values were written to key files of their own, so a new
        # master key no longer changes them
        trail_file = FileKeySource(settings.data_dir / "trail.keys").load()
        assert [e.key_id for e in trail_file] == [expected["trail_key_id"]]
        token_file = FileKeySource(settings.data_dir / "token.keys").load()
        assert [e.key_id for e in token_file] == [LEGACY_TOKEN_KEY]
        assert keysources.legacy_warnings(settings) == []
    else:
        # PostgreSQL with neither COFFRE_TRAIL_KEYS nor COFFRE_TOKEN_KEYS: as before, and said
        assert len(keysources.legacy_warnings(settings)) == 2


def test_the_master_key_of_that_day_rotates_and_retires(legacy: Legacy, opened: Coffre) -> None:
    expected = legacy.expected
    old = opened.keyring.master.current.key_id
    assert opened.keyring.wrapped_counts() == {old: 2}  # two live spaces, one shredded
    new = MasterKeys.generate()
    assert opened.keyring.rotate(new) == 2
    assert opened.keyring.wrapped_counts() == {new.current.key_id: 2}
    # a process configured with the new key alone opens every live document
    if legacy.settings.embedded:
        FileKeySource(legacy.settings.data_dir / "master.keys").replace([new.current.to_entry()])
        settings = legacy.settings
    else:
        settings = legacy.settings.model_copy(
            update={"master_keys": SecretStr(new.current.to_line())}
        )
    coffre = build(settings, clock=ManualClock(NOW))
    try:
        for document in expected["documents"]:
            if document["patient_id"] != expected["shredded_patient"]:
                patient = person(coffre, expected, document["patient_id"])
                plaintext = read(coffre, patient.actor.id, UUID(document["id"]), patient)
                assert plaintext == bytes.fromhex(document["plaintext"])
        # the trail key did not follow the master key where it has a source of its own
        if settings.embedded:
            assert coffre.trail.signer.key_id == expected["trail_key_id"]
    finally:
        coffre.close()


def test_checkpoints_of_that_day_still_verify_and_the_trail_goes_on(
    legacy: Legacy, opened: Coffre
) -> None:
    expected = legacy.expected
    old_key = base64.b64decode(expected["trail_public_key"])
    stored = [c.to_json() for c in opened.trail.checkpoints()]
    assert stored == expected["checkpoints"]
    for data in stored:
        verify_checkpoint(Checkpoint.from_json(data), old_key)
    # the export of that day still verifies with the one public key of that day
    report = verify_export(legacy.export.splitlines(), old_key)
    assert report.entries == expected["checkpoints"][-1]["size"]
    # the trail grows on from the stored one: consistent with the last old checkpoint
    patient = person(opened, expected, expected["documents"][0]["patient_id"])
    read(opened, patient.actor.id, UUID(expected["documents"][0]["id"]), patient)
    opened.runner.catch_up()
    out = io.StringIO()
    opened.trail.export_jsonl(TrailQuery(), out, from_size=expected["checkpoints"][-1]["size"])
    new_key = opened.trail.signer.public_key
    key_set = opened.trail.keys.key_set()
    report = verify_export(
        out.getvalue().splitlines(),
        key_set=key_set,
        previous_checkpoint=expected["checkpoints"][-1],
    )
    assert verify_export(out.getvalue().splitlines(), new_key).entries == report.entries
    assert report.entries > expected["checkpoints"][-1]["size"]
    assert report.consistency_from == expected["checkpoints"][-1]["size"]


def test_a_document_of_that_day_lists_deletes_and_lives_beside_sealed_ones(
    legacy: Legacy, opened: Coffre
) -> None:
    """Deposits of that day hold a clear title and no document key: they are listed and
    deleted as before (the blob goes, the log forgets the title), and a new deposit in
    the same space gets a key of its own and a sealed title."""
    expected = legacy.expected
    document = next(
        d for d in expected["documents"] if d["patient_id"] != expected["shredded_patient"]
    )
    patient = person(opened, expected, document["patient_id"])
    old_id = UUID(document["id"])
    space_id = opened.vault.space_key(patient.actor.id).space_id
    old = opened.vault.repository.get(space_id).documents[old_id].current
    assert old.document_key is None and isinstance(old.title, str)
    titles = {
        d.document_id: d.title for d in opened.vault.documents(patient.actor.id, patient.actor)
    }
    assert titles[old_id] == old.title
    hospital = Actor(Role.SERVICE, "chu-replay", "CHU", organisation="CHU")
    new_id = deposit(opened, patient.actor.id, b"new", hospital, title="Nouveau compte rendu")
    new = opened.vault.repository.get(space_id).documents[new_id].current
    assert new.document_key is not None and not isinstance(new.title, str)
    opened.vault.delete_document(patient.actor.id, old_id, patient.actor)
    assert old.ciphertext.blob not in set(opened.blobs.names())
    wait_for(opened.runner)
    # (its event keeps the clear title of that day: events are never rewritten)
    kept = opened.access_log.store.query(
        "SELECT document_id, title FROM access_log_documents WHERE space_id = %(s)s",
        {"s": space_id},
    )
    titles_kept = {UUID(str(row["document_id"])): row["title"] for row in kept}
    assert titles_kept[old_id] == "" and titles_kept[new_id] == ""
    listed = {
        d.document_id: d.title for d in opened.vault.documents(patient.actor.id, patient.actor)
    }
    assert listed[new_id] == "Nouveau compte rendu" and old_id not in listed
    assert read(opened, patient.actor.id, new_id, patient) == b"new"
