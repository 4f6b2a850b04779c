"""A reader device's key, kept on the client and never sent anywhere.

A device is an Ed25519 signing key: its public half proves, by signing the server's
challenge, that this client holds it (``POST /v1/devices``), and approves the owner's
other devices; its X25519 form (``crypto_sign_ed25519_pk_to_curve25519``) is the reader
key data keys are sealed to on an authorised read, which only the secret half, kept in
this process or in a 0600 file, opens. ``wire.devices`` builds what is signed.

Key file format (one line, UTF-8)::

    coffre-device-key-v1:<base64 of the 32-byte Ed25519 seed>

A file written before devices existed (``coffre-reader-key-v1:`` and an X25519 secret)
still loads as a legacy key: it opens data keys but cannot sign, so it can be neither
added as a device nor approve one; add a new device instead.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from wire.devices import sign
from wire.envelope import DataKey, reader_key_id, unseal
from wire.errors import InsecureKeyFile, InvalidKey

__all__ = ["ReaderKey"]

_PREFIX = "coffre-device-key-v1:"
_LEGACY_PREFIX = "coffre-reader-key-v1:"
_SECRET_SIZE = 32


class ReaderKey:
    """A device's key pair: Ed25519 to sign, its X25519 form to receive sealed data keys.

    ``repr`` never shows the secret; there is deliberately no accessor for it: the
    only things a caller can do with it are :meth:`sign` and :meth:`unseal`.
    """

    __slots__ = ("_private", "_seed")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes) or len(seed) != _SECRET_SIZE:
            raise InvalidKey(f"a device's secret seed is exactly {_SECRET_SIZE} bytes")
        self._seed: bytes | None = seed
        self._private = SigningKey(seed).to_curve25519_private_key()

    @classmethod
    def legacy(cls, secret: bytes) -> ReaderKey:
        """A reader key from before devices: an X25519 secret alone (it cannot sign)."""
        if not isinstance(secret, bytes) or len(secret) != _SECRET_SIZE:
            raise InvalidKey(f"a reader secret key is exactly {_SECRET_SIZE} bytes")
        key = cls.__new__(cls)
        key._seed = None
        key._private = PrivateKey(secret)
        return key

    @classmethod
    def generate(cls) -> ReaderKey:
        """A fresh random device key."""
        return cls(os.urandom(_SECRET_SIZE))

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte X25519 public key data keys are sealed to."""
        return bytes(self._private.public_key)

    @property
    def public_key_b64(self) -> str:
        """The X25519 public key as standard base64."""
        return base64.b64encode(self.public_key).decode("ascii")

    @property
    def can_sign(self) -> bool:
        """False for a legacy key (an X25519 secret alone)."""
        return self._seed is not None

    @property
    def signing_key_b64(self) -> str:
        """The Ed25519 public key as standard base64, the form the API takes."""
        return base64.b64encode(bytes(self._signing().verify_key)).decode("ascii")

    @property
    def key_id(self) -> str:
        """The fingerprint the server knows this device by (what reads name)."""
        return reader_key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """This device's Ed25519 signature of ``message`` (``InvalidKey`` if legacy)."""
        self._signing()
        assert self._seed is not None
        return sign(self._seed, message)

    def unseal(self, sealed: bytes) -> DataKey:
        """Open a data key sealed to this key pair; ``DecryptionError`` otherwise."""
        return unseal(sealed, bytes(self._private))

    def _signing(self) -> SigningKey:
        if self._seed is None:
            raise InvalidKey(
                "this is a legacy reader key: it cannot sign; make a new device key "
                "(`coffre devices add` with another --reader-key file)"
            )
        return SigningKey(self._seed)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key pair to a new file readable by its owner only.

        Never overwrites: raises ``FileExistsError`` when ``path`` exists. Missing parent
        directories are created with mode 0700.
        """
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        # O_EXCL: never clobber a key (documents sealed to it would be lost to this
        # client); 0600 at creation, so the file never exists with looser permissions.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            prefix, secret = (
                (_PREFIX, self._seed)
                if self._seed is not None
                else (_LEGACY_PREFIX, bytes(self._private))
            )
            encoded = base64.b64encode(secret).decode("ascii")
            os.write(fd, f"{prefix}{encoded}\n".encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReaderKey:
        """Read a key file written by :meth:`save`.

        Raises ``FileNotFoundError`` when there is none, :class:`InsecureKeyFile` when
        group or others may access it (like ssh), :class:`InvalidKey` when malformed.
        """
        fd = os.open(path, os.O_RDONLY)
        try:
            # fstat the descriptor we read, not the path, so a swap cannot fool the check
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise InvalidKey("the reader key path is not a regular file")
            if info.st_mode & 0o077:
                raise InsecureKeyFile(
                    f"reader key file has mode {stat.S_IMODE(info.st_mode):04o}; "
                    "it must not be accessible to group or others (chmod 600)"
                )
            raw = os.read(fd, 4096)
        finally:
            os.close(fd)
        text = raw.decode("ascii", errors="replace").strip()
        prefix = next((p for p in (_PREFIX, _LEGACY_PREFIX) if text.startswith(p)), None)
        if prefix is None:
            raise InvalidKey("not a Coffre reader key file")
        try:
            secret = base64.b64decode(text[len(prefix) :], validate=True)
        except (binascii.Error, ValueError):
            # the message must not echo the file: it holds the secret
            raise InvalidKey("the reader key file is malformed") from None
        return cls(secret) if prefix == _PREFIX else cls.legacy(secret)

    def __repr__(self) -> str:
        kind = "" if self.can_sign else ", legacy"
        return f"ReaderKey(key_id={self.key_id!r}{kind}, secret=<redacted>)"
