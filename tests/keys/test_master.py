"""Master keys: wrapping, configuration parsing, the key file and derived keys."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from keys.master import MasterKey, MasterKeys, WrappedSecret
from wire.errors import (
    DecryptionError,
    InsecureKeyFile,
    InvalidKey,
    MasterKeyError,
    UnknownMasterKey,
)


def line(key_id: str, secret: bytes) -> str:
    return f"{key_id}:{base64.b64encode(secret).decode()}"


K1 = MasterKey("mk-1", b"\x01" * 32)
K2 = MasterKey("mk-2", b"\x02" * 32)


# -- wrap / unwrap ------------------------------------------------------------------------


def test_wrap_unwrap_round_trip_under_current_key() -> None:
    keys = MasterKeys([K2, K1])
    wrapped = keys.wrap(b"secret bytes", b"aad")
    assert wrapped.master_key_id == "mk-2"
    assert len(wrapped.blob) == 24 + len(b"secret bytes") + 16
    assert keys.unwrap(wrapped, b"aad") == b"secret bytes"


def test_unwrap_picks_the_version_by_id() -> None:
    old = MasterKeys([K1]).wrap(b"s", b"a")
    assert MasterKeys([K2, K1]).unwrap(old, b"a") == b"s"


def test_unwrap_with_other_aad_fails() -> None:
    keys = MasterKeys([K1])
    with pytest.raises(DecryptionError):
        keys.unwrap(keys.wrap(b"s", b"space-a|key-1"), b"space-a|key-2")


@pytest.mark.parametrize("position", [0, 23, 24, -1])
def test_altered_blob_fails(position: int) -> None:
    keys = MasterKeys([K1])
    blob = bytearray(keys.wrap(b"secret", b"a").blob)
    blob[position] ^= 1
    with pytest.raises(DecryptionError):
        keys.unwrap(WrappedSecret("mk-1", bytes(blob)), b"a")


def test_short_blob_fails() -> None:
    with pytest.raises(DecryptionError):
        MasterKeys([K1]).unwrap(WrappedSecret("mk-1", b"\x00" * 39), b"a")


def test_same_id_with_another_secret_fails_verification() -> None:
    wrapped = MasterKeys([K1]).wrap(b"s", b"a")
    with pytest.raises(DecryptionError):
        MasterKeys([MasterKey("mk-1", b"\x09" * 32)]).unwrap(wrapped, b"a")


def test_unknown_version_is_a_master_key_error() -> None:
    wrapped = MasterKeys([K1]).wrap(b"s", b"a")
    with pytest.raises(UnknownMasterKey):
        MasterKeys([K2]).unwrap(wrapped, b"a")


def test_nonces_are_random() -> None:
    keys = MasterKeys([K1])
    assert keys.wrap(b"s", b"a").blob != keys.wrap(b"s", b"a").blob


def test_secrets_are_never_printed() -> None:
    key = MasterKey.generate()
    assert key.secret.hex() not in repr(key)
    assert base64.b64encode(key.secret).decode() not in repr(key)
    wrapped = MasterKeys([key]).wrap(b"s", b"a")
    assert wrapped.blob.hex() not in repr(wrapped)


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [
        ("", b"x" * 32),
        ("a:b", b"x" * 32),
        ("a,b", b"x" * 32),
        ("k" * 65, b"x" * 32),
        ("ok", b"x" * 31),
        ("ok", b"x" * 33),
    ],
)
def test_master_key_shape_is_checked(key_id: str, secret: bytes) -> None:
    with pytest.raises(InvalidKey):
        MasterKey(key_id, secret)


def test_union_keeps_current_and_adds_older_versions() -> None:
    merged = MasterKeys([K2]).union(MasterKeys([K1]))
    assert merged.ids == ("mk-2", "mk-1")
    assert merged.current.key_id == "mk-2"
    with pytest.raises(MasterKeyError):
        MasterKeys([K1]).union(MasterKeys([MasterKey("mk-1", b"\x09" * 32)]))


# -- configuration ------------------------------------------------------------------------


def test_from_env_first_is_current() -> None:
    keys = MasterKeys.from_env(f"{line('new', b'n' * 32)}, {line('old', b'o' * 32)}")
    assert keys.ids == ("new", "old")
    assert keys.current.secret == b"n" * 32


@pytest.mark.parametrize(
    "value",
    [
        "",
        "  ",
        "nocolon",
        "k:not base64!",
        line("k", b"x" * 16),
        f"{line('k', b'x' * 32)},{line('k', b'y' * 32)}",
    ],
    ids=["empty", "blank", "no-colon", "bad-base64", "short-key", "duplicate-id"],
)
def test_from_env_refuses_bad_values(value: str) -> None:
    with pytest.raises(MasterKeyError):
        MasterKeys.from_env(value)


def test_parse_errors_do_not_echo_the_secret() -> None:
    secret = base64.b64encode(b"s" * 20).decode()
    with pytest.raises(MasterKeyError) as caught:
        MasterKeys.from_env(f"k:{secret}")
    assert secret not in str(caught.value)


# -- key file -----------------------------------------------------------------------------


def test_created_file_has_mode_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "master.keys"
    previous = os.umask(0)  # a permissive umask must not loosen the mode
    try:
        keys = MasterKeys.from_file(path, create=True)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(keys.ids) == 1
    assert path.read_text().strip() == keys.current.to_line()


def test_existing_file_is_loaded_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "master.keys"
    first = MasterKeys.from_file(path, create=True)
    again = MasterKeys.from_file(path, create=True)
    assert again.current.key_id == first.current.key_id
    assert again.current.secret == first.current.secret


def test_file_lines_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / "master.keys"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, f"# rotated 2025-01\n{line('b', b'b' * 32)}\n\n{line('a', b'a' * 32)}\n".encode())
    os.close(fd)
    assert MasterKeys.from_file(path).ids == ("b", "a")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.keys"
    MasterKeys.from_file(path, create=True)
    path.chmod(mode)
    with pytest.raises(InsecureKeyFile):
        MasterKeys.from_file(path)
    with pytest.raises(InsecureKeyFile):
        MasterKeys.from_file(path, create=True)


def test_owner_read_only_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "master.keys"
    MasterKeys.from_file(path, create=True)
    path.chmod(0o400)
    MasterKeys.from_file(path)


def test_missing_file_without_create_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError):
        MasterKeys.from_file(tmp_path / "absent.keys")


def test_a_directory_is_not_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError):
        MasterKeys.from_file(tmp_path)


# -- derived keys -------------------------------------------------------------------------


def test_derive_is_deterministic_per_purpose() -> None:
    keys = MasterKeys([K1])
    receipts = keys.derive("upload-receipt")
    assert len(receipts) == 32
    assert keys.derive("upload-receipt") == receipts
    assert keys.derive("dev-token-signing") != receipts
    assert receipts not in (K1.secret,)


def test_derive_follows_the_current_master_key() -> None:
    # documented: rotating the master key rotates every derived key
    before = MasterKeys([K1]).derive("upload-receipt")
    after = MasterKeys([K2, K1]).derive("upload-receipt")
    assert before != after
    with pytest.raises(ValueError):
        MasterKeys([K1]).derive("")
