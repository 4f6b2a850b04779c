"""Versioned master keys: wrap and unwrap the secrets kept in the key store.

A master key is 32 bytes with a short id. :class:`MasterKeys` holds every version the
deployment still needs plus the *current* one, which wraps all new secrets; older
versions only unwrap until :meth:`keys.keyring.Keyring.rotate` has rewrapped
everything. A KMS/HSM that never releases its keys would sit behind ``wrap``/``unwrap``.

They come from a :class:`keys.sources.KeySource` (environment ``COFFRE_MASTER_KEYS``
or the key file ``master.keys``; the format is in ``keys.sources``). A row of the key
store names the version that wraps it (``WrappedSecret.master_key_id``), so
``Keyring.rotate`` knows what is left to rewrap and a version can be retired once no
row names it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nacl import bindings
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b

from keys.sources import KEY_ID, EnvKeySource, FileKeySource, KeyEntry, KeySource
from wire.errors import (
    DecryptionError,
    InsecureKeyFile,
    InvalidKey,
    KeySourceError,
    MasterKeyError,
    UnknownMasterKey,
)

__all__ = ["ENV_VAR", "MasterKey", "MasterKeys", "WrappedSecret"]

ENV_VAR = "COFFRE_MASTER_KEYS"
KEY_SIZE = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_NONCE_SIZE = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_MAC_SIZE = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
# blake2b personalisation (max 16 bytes): separates derived keys from any other
# keyed-blake2b use of the same master key
_DERIVE_PERSON = b"coffre.derive.v1"


@dataclass(frozen=True)
class WrappedSecret:
    """A secret encrypted under one master key version.

    ``blob`` is ``nonce (24 bytes) || XChaCha20-Poly1305 ciphertext``.
    """

    master_key_id: str
    blob: bytes = field(repr=False)


class MasterKey:
    """One master key version: an id and 32 secret bytes (never printed)."""

    __slots__ = ("_secret", "key_id")

    def __init__(self, key_id: str, secret: bytes) -> None:
        if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
            raise InvalidKey("a master key id is 1-64 characters of [A-Za-z0-9._-]")
        if not isinstance(secret, bytes) or len(secret) != KEY_SIZE:
            raise InvalidKey(f"a master key is exactly {KEY_SIZE} bytes")
        self.key_id = key_id
        self._secret = secret

    @classmethod
    def generate(cls, key_id: str | None = None) -> MasterKey:
        """A fresh random master key; the default id is ``mk-YYYYMMDD-<random hex>``."""
        if key_id is None:
            key_id = f"mk-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
        return cls(key_id, secrets.token_bytes(KEY_SIZE))

    @property
    def secret(self) -> bytes:
        """The raw key bytes. Handle with care."""
        return self._secret

    def to_entry(self) -> KeyEntry:
        """This key as an entry of a key source. Contains the secret."""
        return KeyEntry(self.key_id, self._secret)

    def to_line(self) -> str:
        """The ``keyid:base64key`` configuration form. Contains the secret."""
        return self.to_entry().to_line()

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r}, secret=<redacted>)"


class MasterKeys:
    """The master key versions in use; the first one given is current."""

    def __init__(self, keys: Iterable[MasterKey]) -> None:
        self._keys: dict[str, MasterKey] = {}
        for key in keys:
            if key.key_id in self._keys:
                raise MasterKeyError(f"master key id {key.key_id!r} appears twice")
            self._keys[key.key_id] = key
        if not self._keys:
            raise MasterKeyError("no master key configured")
        self._current = next(iter(self._keys.values()))

    @property
    def current(self) -> MasterKey:
        """The version that wraps new secrets."""
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        """Every loaded version id, current first."""
        return tuple(self._keys)

    def get(self, key_id: str) -> MasterKey:
        """The version with this id; raises :class:`UnknownMasterKey`."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownMasterKey(f"master key {key_id!r} is not configured") from None

    def union(self, older: MasterKeys) -> MasterKeys:
        """These keys (current stays current) plus the versions only ``older`` has.

        Raises :class:`MasterKeyError` if one id names different secrets in the two sets.
        """
        merged = list(self._keys.values())
        for key in older._keys.values():
            mine = self._keys.get(key.key_id)
            if mine is None:
                merged.append(key)
            elif not hmac.compare_digest(mine.secret, key.secret):
                raise MasterKeyError(f"master key id {key.key_id!r} has two different values")
        return MasterKeys(merged)

    def wrap(self, plaintext: bytes, aad: bytes) -> WrappedSecret:
        """Encrypt ``plaintext`` under the current key, bound to ``aad``.

        ``aad`` must name what the secret belongs to, so a wrapped secret copied onto
        another record no longer opens (see :meth:`unwrap`).
        """
        nonce = secrets.token_bytes(_NONCE_SIZE)  # random 192-bit nonce: no reuse risk
        sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, aad, nonce, self._current.secret
        )
        return WrappedSecret(self._current.key_id, nonce + sealed)

    def unwrap(self, wrapped: WrappedSecret, aad: bytes) -> bytes:
        """Decrypt a wrapped secret with the version it names.

        Raises :class:`UnknownMasterKey` if that version is not loaded, and
        :class:`DecryptionError` if the blob was altered or ``aad`` differs from the
        one given to :meth:`wrap`.
        """
        key = self.get(wrapped.master_key_id)
        blob = wrapped.blob
        if len(blob) < _NONCE_SIZE + _MAC_SIZE:
            raise DecryptionError("wrapped secret failed verification")
        try:
            return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                blob[_NONCE_SIZE:], aad, blob[:_NONCE_SIZE], key.secret
            )
        except CryptoError:
            raise DecryptionError("wrapped secret failed verification") from None

    def derive(self, context: str) -> bytes:
        """A 32-byte subkey for a named purpose, from the CURRENT master key.

        Keyed BLAKE2b (libsodium generic hash) of ``context``. Because it follows the
        current key, a new current master key changes every derived key: upload receipts
        and content tickets (minutes long) made before it stop verifying. Trail and
        token keys are no longer derived, except as the legacy keys of a deployment
        that predates them (``coffre.keysources``).
        """
        if not context:
            raise ValueError("a derivation context is required")
        return blake2b(
            context.encode("utf-8"),
            digest_size=32,
            key=self._current.secret,
            person=_DERIVE_PERSON,
            encoder=RawEncoder,
        )

    @classmethod
    def generate(cls) -> MasterKeys:
        """A set holding one fresh random key (tests, first start)."""
        return cls([MasterKey.generate()])

    @classmethod
    def from_source(cls, source: KeySource) -> MasterKeys:
        """The keys of ``source`` (a file, the environment, later a KMS); first is current.

        Raises :class:`MasterKeyError` when the source holds none or a malformed entry,
        :class:`InsecureKeyFile` for a key file open to group or others.
        """
        try:
            entries = source.load()
        except InsecureKeyFile:
            raise
        except KeySourceError as exc:
            raise MasterKeyError(exc.detail) from None
        if not entries:
            raise MasterKeyError(f"no master key in {source.description}")
        return cls(MasterKey(entry.key_id, entry.secret) for entry in entries)

    @classmethod
    def from_env(cls, value: str) -> MasterKeys:
        """Parse ``keyid:base64key[,keyid:base64key...]``; the first is current."""
        return cls.from_source(EnvKeySource(ENV_VAR, value, "master key"))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], create: bool = False) -> MasterKeys:
        """Load a key file (one ``keyid:base64key`` per line, first is current).

        With ``create`` and no file at ``path``, write one fresh key with mode 0600.
        Refuses (:class:`InsecureKeyFile`) a file that grants any permission to group
        or others, like ssh does for private keys.
        """
        source = FileKeySource(path, "master key")
        if create:
            # already there (maybe another process won the race): just load it
            source.create([MasterKey.generate().to_entry()])
        elif not source.exists():
            raise MasterKeyError("master key file not found")
        return cls.from_source(source)
