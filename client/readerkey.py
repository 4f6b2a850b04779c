"""A reading client's X25519 key pair, kept on the client and never sent anywhere.

The public half is registered with the server (``POST /v1/readers/keys``); on an
authorised read the server reseals the document's data key to it, and only the secret
half, which stays in this process or in a 0600 file, opens it.

Key file format (one line, UTF-8)::

    coffre-reader-key-v1:<base64 of the 32-byte X25519 secret key>
"""

from __future__ import annotations

import base64
import binascii
import os
import stat

from nacl.public import PrivateKey

from wire.envelope import DataKey, reader_key_id, unseal
from wire.errors import InsecureKeyFile, InvalidKey

__all__ = ["ReaderKey"]

_PREFIX = "coffre-reader-key-v1:"
_SECRET_SIZE = 32


class ReaderKey:
    """An X25519 key pair for receiving sealed data keys.

    ``repr`` never shows the secret; there is deliberately no accessor for it: the
    only thing a caller can do with the secret is :meth:`unseal`.
    """

    __slots__ = ("_private",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) != _SECRET_SIZE:
            raise InvalidKey(f"a reader secret key is exactly {_SECRET_SIZE} bytes")
        self._private = PrivateKey(secret)

    @classmethod
    def generate(cls) -> ReaderKey:
        """A fresh random key pair."""
        return cls(bytes(PrivateKey.generate()))

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return bytes(self._private.public_key)

    @property
    def public_key_b64(self) -> str:
        """The public key as standard base64, the form the API takes."""
        return base64.b64encode(self.public_key).decode("ascii")

    @property
    def key_id(self) -> str:
        """The fingerprint the server knows this key by (``domain.reader.reader_key_id``)."""
        return reader_key_id(self.public_key)

    def unseal(self, sealed: bytes) -> DataKey:
        """Open a data key sealed to this key pair; ``DecryptionError`` otherwise."""
        return unseal(sealed, bytes(self._private))

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
            encoded = base64.b64encode(bytes(self._private)).decode("ascii")
            os.write(fd, f"{_PREFIX}{encoded}\n".encode("ascii"))
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
        if not text.startswith(_PREFIX):
            raise InvalidKey("not a Coffre reader key file")
        try:
            secret = base64.b64decode(text[len(_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            # the message must not echo the file: it holds the secret
            raise InvalidKey("the reader key file is malformed") from None
        return cls(secret)

    def __repr__(self) -> str:
        return f"ReaderKey(key_id={self.key_id!r}, secret=<redacted>)"
