"""``coffre keys rotate-master`` on 10,000 patients: killed midway, resumed, retired.

Issue 11's acceptance: the rotation runs on at least 10,000 patients and their
documents, is killed once midway (a real ``coffre`` process, SIGKILL) and is resumed;
afterwards every document still opens and no key-store row is wrapped under the old
key. On both backend pairings, with the real key stores.

The 10,000 patients are seeded straight into the key store (each a space key pair
wrapped under the old master key, as ``Keyring.create_space_key`` wraps it) with one
document data key each, sealed to the patient's public key as a deposit seals it:
opening a document after the rotation is the key release of a read (``Keyring.reseal``)
with the new master key alone. A few patients are real spaces with real documents in
the blob store, read end to end through the vault afterwards. A hundred seeded keys
are shredded first and must stay shredded.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from nacl.public import PrivateKey

from coffre.bootstrap import build, key_store
from domain.values import Actor, patient_id_from_number
from keys.keyring import Keyring, space_key_aad
from keys.master import MasterKey, MasterKeys
from tests.devices import enrol
from tests.scenarios.conftest import Person, deposit, open_space, read
from tests.served import server_env
from vault.clock import ManualClock
from vault.settings import Settings
from wire.envelope import DataKey, seal, unseal
from wire.errors import KeyDestroyed
from wire.values import Role

PATIENTS = 10_000
SHREDDED = 100
BATCH = 100  # a hundred transactions: the kill lands among them
HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon")
OLD = MasterKey("mk-old", b"\x11" * 32)
NEW = MasterKey("mk-new", b"\x22" * 32)
SEEDED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BACKENDS = ["sqlite-fs", pytest.param("postgres-s3", marks=[pytest.mark.postgres, pytest.mark.s3])]


@dataclass
class Seeded:
    """What the test keeps to check every document afterwards."""

    keys: list[tuple[UUID, str, bytes, DataKey]] = field(default_factory=list)
    shredded: list[tuple[UUID, str]] = field(default_factory=list)
    documents: list[tuple[str, UUID, bytes]] = field(default_factory=list)
    clock: ManualClock = field(default_factory=lambda: ManualClock(SEEDED_AT))


@dataclass
class Deployment:
    """One backend pairing: the server's settings and the ``coffre`` environment."""

    backend: str
    env: dict[str, str]
    data_dir: Path

    def settings(self, master: MasterKeys) -> Settings:
        """Settings as a process with the given master keys sees them."""
        env = {k: v for k, v in self.env.items() if k != "COFFRE_MASTER_KEYS"}
        if self.backend != "sqlite-fs":
            env["COFFRE_MASTER_KEYS"] = ",".join(master.get(k).to_line() for k in master.ids)
        fields = {k.removeprefix("COFFRE_").lower(): v for k, v in env.items()}
        return Settings(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Deployment:
    """A migrated deployment whose only master key is OLD (a file, or the environment)."""
    data_dir = tmp_path / "data"
    env = server_env(request, request.param, data_dir, OLD.to_line())
    if request.param == "sqlite-fs":
        del env["COFFRE_MASTER_KEYS"]  # embedded: the key file, which --new adds to
        data_dir.mkdir(mode=0o700)
        fd = os.open(data_dir / "master.keys", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, (OLD.to_line() + "\n").encode())
        os.close(fd)
    env.pop("COFFRE_OPPOSITION_PERIOD")
    return Deployment(request.param, env, data_dir)


def seed(deployment: Deployment) -> Seeded:
    """Real spaces with real documents, then 10,000 patients written straight in."""
    seeded = Seeded()
    clock = seeded.clock
    coffre = build(deployment.settings(MasterKeys([OLD])), clock=clock)
    try:
        for number in range(3):
            patient_id = patient_id_from_number(f"28706750009{number:02}")
            open_space(coffre, clock, patient_id, HOSPITAL)
            for copy in range(2):
                plaintext = f"compte rendu {copy} / {number}".encode()
                document = deposit(coffre, patient_id, plaintext, HOSPITAL)
                seeded.documents.append((patient_id, document, plaintext))
    finally:
        coffre.close()
    rows = []
    for index in range(PATIENTS):
        space_id, key_id = uuid.uuid4(), f"spk_{uuid.uuid4().hex}"
        secret = PrivateKey.generate()
        wrapped = MasterKeys([OLD]).wrap(bytes(secret), space_key_aad(space_id, key_id))
        public = bytes(secret.public_key)
        if index < SHREDDED:
            rows.append((key_id, space_id, public, None, None, datetime.now(UTC)))
            seeded.shredded.append((space_id, key_id))
            continue
        rows.append((key_id, space_id, public, OLD.key_id, wrapped.blob, None))
        data_key = DataKey.generate()
        seeded.keys.append((space_id, key_id, seal(data_key, public), data_key))
    insert_rows(deployment, rows)
    return seeded


def insert_rows(deployment: Deployment, rows: list[tuple[object, ...]]) -> None:
    """Bulk insert into the real key store's table (COPY on PostgreSQL)."""
    columns = "key_id, space_id, public_key, master_key_id, wrapped_secret, destroyed_at"
    if deployment.backend == "sqlite-fs":
        with sqlite3.connect(deployment.data_dir / "coffre.db") as conn:
            conn.executemany(
                f"INSERT INTO coffre_space_keys ({columns}) VALUES (?, ?, ?, ?, ?, ?)",
                [(k, str(s), p, m, w, d.isoformat() if d else None) for k, s, p, m, w, d in rows],
            )
        return
    conninfo = deployment.settings(MasterKeys([OLD])).pg_conninfo()
    with (
        psycopg.connect(conninfo) as conn,
        conn.cursor().copy(f"COPY coffre_space_keys ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def environ(deployment: Deployment, master_line: str | None) -> dict[str, str]:
    """The process environment of a ``coffre`` run (master keys from env on PostgreSQL)."""
    env = {**os.environ, **deployment.env, "PYTHONPATH": os.getcwd()}
    if master_line is not None:
        env["COFFRE_MASTER_KEYS"] = master_line
    return env


def run(
    deployment: Deployment, master_line: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``coffre keys ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "coffre.cli", "keys", *args],
        env=environ(deployment, master_line),
        capture_output=True,
        text=True,
        timeout=300,
    )


def counts(deployment: Deployment, master: MasterKeys) -> dict[str, int]:
    """Live rows per master key id, read from the real key store."""
    store = key_store(deployment.settings(master))
    try:
        return store.count_by_master()
    finally:
        store.close()


def kill_midway(deployment: Deployment, master_line: str | None, *args: str) -> list[str]:
    """Start ``coffre keys rotate-master``, SIGKILL it once a batch has committed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "coffre.cli", "keys", "rotate-master", *args],
        env=environ(deployment, master_line),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line.strip())
        if line.startswith("rewrapped ") and not line.startswith("rewrapped 0/"):
            os.kill(process.pid, signal.SIGKILL)
            break
    assert process.wait(timeout=60) == -signal.SIGKILL, seen
    return seen


@pytest.fixture
def seeded(deployment: Deployment) -> Iterator[Seeded]:
    yield seed(deployment)


def test_rotation_killed_midway_resumes_and_every_document_still_opens(
    deployment: Deployment, seeded: Seeded
) -> None:
    # the seeded space keys, then the real spaces' keys and one document key per deposit
    live = PATIENTS - SHREDDED + 3 + 3 * 2
    assert counts(deployment, MasterKeys([OLD])) == {OLD.key_id: live}
    embedded = deployment.backend == "sqlite-fs"
    # embedded: --new adds a random current key to master.keys; PostgreSQL: the operator
    # deploys the new list (new first) in COFFRE_MASTER_KEYS
    both = None if embedded else f"{NEW.to_line()},{OLD.to_line()}"
    options = ["--new"] if embedded else []
    progress = kill_midway(deployment, both, *options, "--batch-size", str(BATCH))
    assert progress[-2] == f"rewrapped 0/{live}"
    master = current_master(deployment, both)
    assert master.ids[1:] == (OLD.key_id,)
    midway = counts(deployment, master)
    # killed midway: some rows under each key, none lost
    assert 0 < midway[master.current.key_id] < live
    assert midway[master.current.key_id] + midway[OLD.key_id] == live
    # the old key cannot be retired yet
    refused = run(deployment, both, "retire-master", OLD.key_id)
    assert refused.returncode == 1 and "still wrapped under mk-old" in refused.stderr
    # resumed: it finishes, counting on stderr
    resumed = run(deployment, both, "rotate-master", "--batch-size", str(BATCH))
    assert resumed.returncode == 0, resumed.stderr
    assert f"rewrapped {midway[OLD.key_id]}/{midway[OLD.key_id]}" in resumed.stderr
    assert resumed.stdout.startswith(f"{midway[OLD.key_id]} key(s) rewrapped")
    assert counts(deployment, master) == {master.current.key_id: live}
    # idempotent
    again = run(deployment, both, "rotate-master")
    assert again.returncode == 0 and again.stdout.startswith("0 key(s) rewrapped")
    # now the old key retires (from the file; the environment is the operator's to edit)
    retired = run(deployment, both, "retire-master", OLD.key_id)
    assert retired.returncode == 0, retired.stderr
    only_new = MasterKeys([master.current])
    if embedded:
        assert current_master(deployment, None).ids == (master.current.key_id,)
    # every document opens with the new key alone; shredded ones stay shredded
    store = key_store(deployment.settings(only_new))
    try:
        keyring = Keyring(only_new, store)
        reader = PrivateKey.generate()
        for space_id, key_id, sealed, data_key in seeded.keys:
            released = keyring.reseal(space_id, key_id, sealed, bytes(reader.public_key))
            assert unseal(released, bytes(reader)) == data_key
        for space_id, key_id in seeded.shredded:
            with pytest.raises(KeyDestroyed):
                keyring.reseal(space_id, key_id, b"\x00" * 80, bytes(reader.public_key))
    finally:
        store.close()
    assert OLD.key_id not in counts(deployment, only_new)
    coffre = build(deployment.settings(only_new), clock=seeded.clock)
    try:
        for patient_id, document_id, plaintext in seeded.documents:
            patient = Actor(Role.PATIENT, patient_id, "Patient")
            secret, key_id = enrol(coffre.vault, patient)
            person = Person(patient, secret, key_id)
            assert read(coffre, patient_id, document_id, person) == plaintext
    finally:
        coffre.close()


def current_master(deployment: Deployment, master_line: str | None) -> MasterKeys:
    """The master keys as configured now (the key file, or the environment given)."""
    if master_line is not None:
        return MasterKeys.from_env(master_line)
    return MasterKeys.from_file(deployment.data_dir / "master.keys")
