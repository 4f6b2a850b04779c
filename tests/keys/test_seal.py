"""Data keys travel only sealed (crypto_box_seal) to an X25519 public key."""

from __future__ import annotations

import pytest
from nacl.public import PrivateKey

from wire.envelope import SEALED_KEY_SIZE, DataKey, seal, unseal
from wire.errors import DecryptionError, InvalidKey


@pytest.fixture
def recipient() -> PrivateKey:
    return PrivateKey.generate()


def test_seal_then_unseal_gives_the_data_key(recipient: PrivateKey) -> None:
    data_key = DataKey.generate()
    sealed = seal(data_key, bytes(recipient.public_key))
    assert len(sealed) == SEALED_KEY_SIZE == 80
    assert bytes(data_key) not in sealed
    assert unseal(sealed, bytes(recipient)) == data_key


def test_sealing_is_randomised(recipient: PrivateKey) -> None:
    data_key = DataKey.generate()
    public = bytes(recipient.public_key)
    assert seal(data_key, public) != seal(data_key, public)


def test_another_secret_key_cannot_unseal(recipient: PrivateKey) -> None:
    sealed = seal(DataKey.generate(), bytes(recipient.public_key))
    with pytest.raises(DecryptionError, match="sealed data key failed verification"):
        unseal(sealed, bytes(PrivateKey.generate()))


@pytest.mark.parametrize("position", [0, 31, 32, 47, 48, 79])
def test_altered_sealed_key_is_refused(recipient: PrivateKey, position: int) -> None:
    sealed = bytearray(seal(DataKey.generate(), bytes(recipient.public_key)))
    sealed[position] ^= 0x01
    with pytest.raises(DecryptionError):
        unseal(bytes(sealed), bytes(recipient))


@pytest.mark.parametrize("size", [0, 79, 81])
def test_wrong_sized_sealed_key_is_refused(recipient: PrivateKey, size: int) -> None:
    with pytest.raises(DecryptionError):
        unseal(b"\x00" * size, bytes(recipient))


@pytest.mark.parametrize("bad", [b"", b"\x01" * 31, b"\x01" * 33])
def test_key_sizes_are_checked(bad: bytes) -> None:
    with pytest.raises(InvalidKey):
        seal(DataKey.generate(), bad)
    with pytest.raises(InvalidKey):
        unseal(b"\x00" * SEALED_KEY_SIZE, bad)
