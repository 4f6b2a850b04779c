"""Key sources: a key file and an environment variable behind one small interface."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from keys.sources import EnvKeySource, FileKeySource, KeyEntry, KeySource
from wire.errors import InsecureKeyFile, InvalidKey, KeySourceError

A = KeyEntry("a", b"a" * 32)
B = KeyEntry("b", b"b" * 32)
C = KeyEntry("c", b"c" * 32)


def test_an_entry_is_an_id_and_32_bytes_never_printed() -> None:
    assert "aaaa" not in repr(A) and "YWFh" not in repr(A)
    assert A.to_line() == f"a:{base64.b64encode(b'a' * 32).decode()}"
    for key_id, secret in (("", b"x" * 32), ("a:b", b"x" * 32), ("ok", b"x" * 31)):
        with pytest.raises(InvalidKey):
            KeyEntry(key_id, secret)
    assert KeyEntry.generate("g").secret != KeyEntry.generate("g").secret


def test_a_file_source_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    source = FileKeySource(tmp_path / "k.keys")
    assert source.load() == [] and not source.exists()
    previous = os.umask(0)
    try:
        assert source.create([A, B])
    finally:
        os.umask(previous)
    assert stat.S_IMODE(source.path.stat().st_mode) == 0o600
    assert not source.create([C])  # never overwrites keys
    assert source.load() == [A, B]


def test_a_file_source_adds_a_current_key_and_removes_older_ones(tmp_path: Path) -> None:
    source: KeySource = FileKeySource(tmp_path / "k.keys")
    assert isinstance(source, FileKeySource) and source.writable
    source.create([A])
    source.add_current(B)
    assert source.load() == [B, A]
    with pytest.raises(KeySourceError, match="already"):
        source.add_current(A)
    with pytest.raises(KeySourceError, match="current"):
        source.remove("b")
    source.remove("a")
    source.remove("a")  # absent: nothing to do
    assert source.load() == [B]
    assert stat.S_IMODE(source.path.stat().st_mode) == 0o600  # the rewritten file too
    source.replace([C])
    assert source.load() == [C]
    with pytest.raises(KeySourceError):
        source.replace([])
    # no temporary file is left beside the keys
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.keys", "k.keys.lock"]


def test_a_key_file_open_to_others_or_malformed_is_refused(tmp_path: Path) -> None:
    source = FileKeySource(tmp_path / "k.keys", "trail key")
    source.create([A])
    source.path.chmod(0o640)
    with pytest.raises(InsecureKeyFile):
        source.load()
    source.path.chmod(0o600)
    source.path.write_text("# comment\n\nnot a key\n")
    with pytest.raises(KeySourceError, match="trail key entry"):
        source.load()


def test_the_environment_is_read_never_written() -> None:
    source = EnvKeySource("COFFRE_X_KEYS", f"{B.to_line()}, {A.to_line()}", "x key")
    assert source.load() == [B, A] and not source.writable
    assert source.description == "environment COFFRE_X_KEYS"
    for change in (lambda: source.add_current(C), lambda: source.remove("a")):
        with pytest.raises(KeySourceError, match="cannot be changed"):
            change()
    assert EnvKeySource("V", " ").load() == []


@pytest.mark.parametrize(
    "value",
    ["nocolon", "k:not base64!", f"k:{base64.b64encode(b'x' * 16).decode()}", "a:YQ==,a:YQ=="],
)
def test_bad_entries_are_refused_without_echoing_them(value: str) -> None:
    with pytest.raises(KeySourceError) as caught:
        EnvKeySource("V", value, "master key").load()
    secret = value.partition(":")[2]
    assert not secret or secret not in caught.value.detail
