"""Which source each key comes from (``coffre.keysources``): kept apart on a first start,
kept as they were on a data directory of an older version, derived only as a fallback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from coffre import keysources
from coffre.bootstrap import build, master_keys
from keys.checkpoint import CheckpointSigner
from keys.master import MasterKey, MasterKeys
from keys.sources import FileKeySource
from tests.served import server_env
from vault.settings import Settings

FILES = ("master.keys", "trail.keys", "token.keys")


def test_a_first_start_makes_three_independent_keys(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    coffre = build(settings)
    try:
        master = coffre.keyring.master
        trail, token = coffre.trail.signer, coffre.tokens
    finally:
        coffre.close()
    for name in FILES:
        assert stat.S_IMODE((settings.data_dir / name).stat().st_mode) == 0o600
    # none is derived from the master key: holding master.keys gives neither
    assert trail.key_id != CheckpointSigner.legacy(master).key_id
    (token_entry,) = FileKeySource(settings.data_dir / "token.keys").load()
    assert token_entry.key_id == token.key_id
    assert token_entry.secret != master.derive(keysources.TOKEN_DERIVATION)
    assert keysources.legacy_warnings(settings) == []
    # and a new current master key changes neither
    FileKeySource(settings.data_dir / "master.keys").add_current(MasterKey.generate().to_entry())
    again = build(settings)
    try:
        assert again.keyring.master.current.key_id != master.current.key_id
        assert again.trail.signer.key_id == trail.key_id
        assert again.tokens.key_id == token.key_id
    finally:
        again.close()


def test_an_older_data_directory_keeps_the_keys_it_derived(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    old = MasterKeys.generate()
    FileKeySource(data / "master.keys").create([old.current.to_entry()])
    settings = Settings(data_dir=data)
    assert master_keys(settings).current.key_id == old.current.key_id
    (trail,) = FileKeySource(data / "trail.keys").load()
    assert trail == CheckpointSigner.legacy(old)
    (token,) = FileKeySource(data / "token.keys").load()
    assert token.key_id == keysources.LEGACY_TOKEN_KEY
    assert token.secret == old.derive(keysources.TOKEN_DERIVATION)


def test_a_half_made_first_start_is_finished_as_a_first_start(tmp_path: Path) -> None:
    # trail.keys and token.keys are written before master.keys: a crash between them
    # leaves no master key, so the next start is a first start again
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    early = CheckpointSigner.generate()
    FileKeySource(data / "trail.keys").create([early])
    master = master_keys(Settings(data_dir=data))
    assert FileKeySource(data / "trail.keys").load() == [early]
    assert early != CheckpointSigner.legacy(master)
    assert set(FILES) <= set(os.listdir(data))


@pytest.mark.postgres
@pytest.mark.s3
def test_without_sources_postgres_keeps_the_legacy_keys_and_records_each_change(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    first = MasterKeys.generate()
    env = server_env(request, "postgres-s3", tmp_path / "data", first.current.to_line())

    def settings(master_keys: str, **extra: str) -> Settings:
        values = {**env, "COFFRE_MASTER_KEYS": master_keys, **extra}
        return Settings(**{k.removeprefix("COFFRE_").lower(): v for k, v in values.items()})  # type: ignore[arg-type]

    before = settings(first.current.to_line())
    assert len(keysources.legacy_warnings(before)) == 2
    coffre = build(before)
    try:
        legacy = coffre.trail.signer.key_id
        assert legacy == CheckpointSigner.legacy(first).key_id
        assert coffre.tokens.key_id == keysources.LEGACY_TOKEN_KEY
    finally:
        coffre.close()
    # a new current master key (the legacy trail key follows it): recorded as a rotation
    second = MasterKey.generate()
    coffre = build(settings(f"{second.to_line()},{first.current.to_line()}"))
    try:
        assert coffre.trail.signer.key_id != legacy
        old, new = coffre.trail.keys.key_set().keys
        assert (old.key_id, new.key_id) == (legacy, coffre.trail.signer.key_id)
        assert old.not_after == new.not_before
    finally:
        coffre.close()
    # with COFFRE_TRAIL_KEYS the trail key is its own, whatever the master key
    own = CheckpointSigner.generate()
    configured = settings(second.to_line(), COFFRE_TRAIL_KEYS=own.to_line())
    assert len(keysources.legacy_warnings(configured)) == 1  # the token key still derives
    coffre = build(configured)
    try:
        assert coffre.trail.signer.key_id == own.key_id
        assert coffre.trail.keys.key_set().keys[-1].key_id == own.key_id
    finally:
        coffre.close()
