"""``coffre keys`` for the operator (trail key rotation, the published key set, new keys,
status) and ``coffre audit verify --keys`` for the regulator, on both backends.

Embedded: the keys live in the data directory's files, which the commands rewrite.
PostgreSQL: they come from the environment, which the operator changes; the command
records the trail key the environment now names.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from coffre.bootstrap import build, lock_data_dir
from coffre.cli import app
from domain.values import Actor, patient_id_from_number
from keys.checkpoint import CheckpointSigner
from keys.master import MasterKeys
from keys.sources import FileKeySource
from projections.trail_export import TrailQuery
from tests.scenarios.conftest import deposit
from tests.served import server_env
from vault.settings import Settings
from wire.trail_keys import TrailKeySet
from wire.values import Role

HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon")
PATIENT = patient_id_from_number("2870675000401")
BACKENDS = ["sqlite-fs", pytest.param("postgres-s3", marks=[pytest.mark.postgres, pytest.mark.s3])]


@dataclass
class Operator:
    """One deployment, and the ``coffre`` command run next to it."""

    env: dict[str, str]
    data_dir: Path
    embedded: bool

    def settings(self) -> Settings:
        return Settings(**{k.removeprefix("COFFRE_").lower(): v for k, v in self.env.items()})  # type: ignore[arg-type]

    def coffre(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), env={**self.env, "COLUMNS": "200"})

    def grow_and_export(self, target: Path, from_size: int | None = None) -> dict[str, object]:
        """A deposit, the trail caught up, a whole-log export; returns its checkpoint."""
        coffre = build(self.settings())
        try:
            if not from_size:
                coffre.vault.provision(PATIENT, HOSPITAL)
            deposit(coffre, PATIENT, b"compte rendu", HOSPITAL)
            coffre.runner.catch_up()
            out = io.StringIO()
            coffre.trail.export_jsonl(TrailQuery(), out, from_size=from_size)
        finally:
            coffre.close()
        target.write_text(out.getvalue())
        return json.loads(out.getvalue().splitlines()[0])["checkpoint"]


@pytest.fixture(params=BACKENDS)
def operator(request: pytest.FixtureRequest, tmp_path: Path) -> Operator:
    master = MasterKeys.generate().current.to_line()
    env = server_env(request, request.param, tmp_path / "data", master)
    embedded = request.param == "sqlite-fs"
    if embedded:
        del env["COFFRE_MASTER_KEYS"]  # the key files of the data directory
    else:
        first = tmp_path / "first-trail.key"
        CliRunner().invoke(app, ["keys", "new", "trail", "--out", str(first)])
        env["COFFRE_TRAIL_KEYS"] = first.read_text().strip()
    return Operator(env, tmp_path / "data", embedded)


def test_rotate_publish_and_verify_across_the_rotation(operator: Operator, tmp_path: Path) -> None:
    old_export = tmp_path / "old.jsonl"
    held = operator.grow_and_export(old_export)
    (tmp_path / "held.json").write_text(json.dumps(held))
    status = operator.coffre("keys", "status")
    assert status.exit_code == 0, status.output
    assert f"trail keys (signing: {held['key_id']})" in status.stdout
    # the space key, and the key of the one document deposited
    assert "current, wraps 2 key(s)" in status.stdout and "token issuer: current" in status.stdout
    # Checkpoint times and key periods are to the second (docs/trail.md): a rotation in
    # the very second of the old key's last checkpoint would end its period at that
    # checkpoint. An operator's rotation is never that close; this test's would be.
    time.sleep(1.0 - datetime.now(UTC).microsecond / 1e6 + 0.05)

    if operator.embedded:
        rotated = operator.coffre("keys", "rotate-trail")
        new_id = rotated.stdout.strip()
        file = FileKeySource(operator.data_dir / "trail.keys")
        assert [entry.key_id for entry in file.load()] == [new_id]  # the old secret is gone
    else:
        second = tmp_path / "second-trail.key"
        made = operator.coffre("keys", "new", "trail", "--out", str(second))
        new_id = made.stdout.strip()
        assert stat.S_IMODE(second.stat().st_mode) == 0o600
        operator.env["COFFRE_TRAIL_KEYS"] = second.read_text().strip()
        rotated = operator.coffre("keys", "rotate-trail")
        assert rotated.stdout.strip() == new_id
    assert rotated.exit_code == 0, rotated.output
    assert new_id != held["key_id"] and "publish the key set" in rotated.stderr

    published = operator.coffre("keys", "publish-trail", "--out", str(tmp_path / "keys.json"))
    assert published.exit_code == 0, published.output
    key_set = TrailKeySet.from_json(json.loads((tmp_path / "keys.json").read_text()))
    assert [k.key_id for k in key_set.keys] == [held["key_id"], new_id]
    assert key_set.keys[0].not_after == key_set.keys[1].not_before

    new_export = tmp_path / "new.jsonl"
    operator.grow_and_export(new_export, from_size=int(held["size"]))  # type: ignore[call-overload]
    keys, previous = str(tmp_path / "keys.json"), str(tmp_path / "held.json")
    ok = operator.coffre("audit", "verify", str(new_export), "--keys", keys, "--previous", previous)
    assert ok.exit_code == 0, ok.output
    assert f"by key {new_id}" in ok.stdout and "is in the key set" in ok.stdout
    assert operator.coffre("audit", "verify", str(old_export), "--keys", keys).exit_code == 0
    public = key_set.to_json()["keys"][0]["public_key"]  # the key of that day
    assert (
        operator.coffre("audit", "verify", str(old_export), "--public-key", public).exit_code == 0
    )
    refused = operator.coffre("audit", "verify", str(new_export), "--public-key", public)
    assert refused.exit_code == 1 and "public-key" in refused.stderr


def test_keys_change_only_while_no_server_runs(tmp_path: Path) -> None:
    env = {"COFFRE_DATA_DIR": str(tmp_path / "data")}
    settings = Settings(data_dir=tmp_path / "data")
    build(settings).close()
    fd = lock_data_dir(settings)  # what `coffre serve` holds
    try:
        for args in (["rotate-trail"], ["rotate-master", "--new"], ["retire-master", "mk-x"]):
            result = CliRunner().invoke(app, ["keys", *args], env=env)
            assert result.exit_code == 1 and "in use" in result.stderr, args
    finally:
        os.close(fd)
    assert CliRunner().invoke(app, ["keys", "rotate-trail"], env=env).exit_code == 0


def test_new_keys_go_to_new_private_files_never_to_the_terminal(tmp_path: Path) -> None:
    for kind in ("master", "trail", "token"):
        target = tmp_path / f"{kind}.key"
        made = CliRunner().invoke(app, ["keys", "new", kind, "--out", str(target)])
        assert made.exit_code == 0, made.output
        (entry,) = FileKeySource(target).load()
        assert made.stdout == entry.key_id + "\n"
        assert entry.to_line().partition(":")[2] not in made.output
        if kind == "trail":
            assert entry.key_id == CheckpointSigner(entry.secret).key_id
        again = CliRunner().invoke(app, ["keys", "new", kind, "--out", str(target)])
        assert again.exit_code == 1 and "exists" in again.stderr
