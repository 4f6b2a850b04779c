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


def test_unseal_with_the_public_half_opens_the_same(recipient: PrivateKey) -> None:
    """The key store's shortcut (the stored public half instead of deriving it) opens
    exactly what the plain call opens, and refuses exactly what it refuses."""
    data_key = DataKey.generate()
    public = bytes(recipient.public_key)
    sealed = seal(data_key, public)
    assert unseal(sealed, bytes(recipient), public) == unseal(sealed, bytes(recipient)) == data_key
    altered = bytearray(sealed)
    altered[40] ^= 0x01
    with pytest.raises(DecryptionError, match="sealed data key failed verification"):
        unseal(bytes(altered), bytes(recipient), public)
    with pytest.raises(DecryptionError):
        unseal(b"\x00" * 79, bytes(recipient), public)


def test_a_wrong_public_half_opens_nothing(recipient: PrivateKey) -> None:
    """The box's nonce is derived from the recipient's public key: the right secret
    with another public half fails, as a tampered secret would."""
    sealed = seal(DataKey.generate(), bytes(recipient.public_key))
    other = bytes(PrivateKey.generate().public_key)
    with pytest.raises(DecryptionError, match="sealed data key failed verification"):
        unseal(sealed, bytes(recipient), other)


@pytest.mark.parametrize("bad", [b"", b"\x01" * 31, b"\x01" * 33, "ab" * 16])
def test_the_public_half_size_is_checked(recipient: PrivateKey, bad: bytes) -> None:
    sealed = seal(DataKey.generate(), bytes(recipient.public_key))
    with pytest.raises(InvalidKey, match="a public key is exactly 32 bytes"):
        unseal(sealed, bytes(recipient), bad)  # type: ignore[arg-type]
