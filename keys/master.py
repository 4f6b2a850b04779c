"""Versioned master keys: wrap and unwrap the secrets kept in the key store.

A master key is 32 bytes with a short id. :class:`MasterKeys` holds every version the
deployment still needs plus the *current* one, which wraps all new secrets; older
versions only unwrap until :meth:`keys.keyring.Keyring.rotate` has rewrapped
everything. In production this small interface is what a KMS/HSM would sit behind.

Configuration format (environment ``COFFRE_MASTER_KEYS`` or a key file)::

    keyid:base64key[,keyid:base64key...]     environment: comma-separated, first is current
    keyid:base64key                          file: one per line, first is current;
    keyid:base64key                          blank lines and ``#`` comments are ignored
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nacl import bindings
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b

from wire.errors import (
    DecryptionError,
    InsecureKeyFile,
    InvalidKey,
    MasterKeyError,
    UnknownMasterKey,
)

__all__ = ["ENV_VAR", "MasterKey", "MasterKeys", "WrappedSecret"]

ENV_VAR = "COFFRE_MASTER_KEYS"
KEY_SIZE = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_NONCE_SIZE = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_MAC_SIZE = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
# ids end up in config lines ("id:key", comma-separated) and database rows
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
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
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
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

    def to_line(self) -> str:
        """The ``keyid:base64key`` configuration form. Contains the secret."""
        return f"{self.key_id}:{base64.b64encode(self._secret).decode('ascii')}"

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
        current key, rotating the master key rotates every derived key: upload-receipt
        HMACs and dev tokens made before a rotation stop verifying after it.
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
    def from_env(cls, value: str) -> MasterKeys:
        """Parse ``keyid:base64key[,keyid:base64key...]``; the first is current."""
        return cls(_parse_entry(item) for item in value.split(",") if item.strip())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], create: bool = False) -> MasterKeys:
        """Load a key file (one ``keyid:base64key`` per line, first is current).

        With ``create`` and no file at ``path``, write one fresh key with mode 0600.
        Refuses (:class:`InsecureKeyFile`) a file that grants any permission to group
        or others, like ssh does for private keys.
        """
        if create:
            # already there (maybe another process won the race): just load it
            with contextlib.suppress(FileExistsError):
                _create_key_file(path)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise MasterKeyError("master key file not found") from None
        except OSError as exc:
            raise MasterKeyError(f"master key file unreadable: {exc.strerror}") from None
        try:
            # fstat the descriptor we read, not the path, so a swap cannot fool the check
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise MasterKeyError("master key path is not a regular file")
            if info.st_mode & 0o077:
                raise InsecureKeyFile(
                    f"master key file has mode {stat.S_IMODE(info.st_mode):04o}; "
                    "it must not be accessible to group or others (chmod 600)"
                )
            raw = b"".join(iter(lambda: os.read(fd, 4096), b""))
        finally:
            os.close(fd)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MasterKeyError("master key file is not UTF-8 text") from None
        lines = (line.strip() for line in text.splitlines())
        return cls(_parse_entry(line) for line in lines if line and not line.startswith("#"))


def _parse_entry(entry: str) -> MasterKey:
    key_id, sep, encoded = entry.strip().partition(":")
    if not sep:
        raise MasterKeyError("a master key entry is 'keyid:base64key'")
    try:
        secret = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        # the message must not echo the entry: it holds the secret
        raise MasterKeyError(f"master key {key_id!r} is not valid base64") from None
    try:
        return MasterKey(key_id, secret)
    except InvalidKey as exc:
        raise MasterKeyError(f"master key {key_id!r}: {exc.detail}") from None


def _create_key_file(path: str | os.PathLike[str]) -> None:
    # O_EXCL: never overwrite keys; 0o600 at creation: never a window where the file
    # exists with looser permissions (a chmod afterwards would leave one)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        line = MasterKey.generate().to_line() + "\n"
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    directory = os.path.dirname(os.path.abspath(path))
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the new directory entry durable too
    finally:
        os.close(dir_fd)
