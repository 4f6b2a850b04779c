"""Errors raised by the ``keys`` package, grafted onto the tree in ``domain.errors``.

::

    CoffreError
    ├── InvalidInput
    │   └── InvalidKey              key bytes or a key id of the wrong size or shape
    ├── NotFound
    │   └── UnknownKey              no space key with this id in the key store
    ├── Conflict
    │   └── KeyAlreadyExists        a space key with this id is already stored
    ├── IntegrityFailure
    │   └── DecryptionError         opaque on purpose: never says which check failed
    ├── KeyDestroyed                (from ``domain``) the space key was shredded
    └── Unavailable
        ├── KeyStoreUnavailable     the key store's database failed
        └── MasterKeyError          master keys missing, malformed or unsafe on disk
            ├── InsecureKeyFile     the master key file is readable by group or others
            └── UnknownMasterKey    a secret is wrapped under a master key not loaded

Messages never carry key bytes, plaintext or ciphertext.
"""

from __future__ import annotations

from domain.errors import (
    Conflict,
    IntegrityFailure,
    InvalidInput,
    KeyDestroyed,
    NotFound,
    Unavailable,
)

__all__ = [
    "DecryptionError",
    "InsecureKeyFile",
    "InvalidKey",
    "KeyAlreadyExists",
    "KeyDestroyed",
    "KeyStoreUnavailable",
    "MasterKeyError",
    "UnknownKey",
    "UnknownMasterKey",
]


class DecryptionError(IntegrityFailure):
    """A ciphertext, sealed key or wrapped secret failed authentication.

    Deliberately opaque (like PyNaCl's ``CryptoError``): telling an attacker *which*
    check failed (header, tag, truncation, key) only helps them.
    """

    code = "decryption-failed"

    def __init__(self, detail: str = "ciphertext failed verification") -> None:
        super().__init__(detail)


class InvalidKey(InvalidInput):
    """Key material or a key id has the wrong size or shape."""

    code = "invalid-key"


class UnknownKey(NotFound):
    """No space key with this id exists in the key store."""

    code = "unknown-key"


class KeyAlreadyExists(Conflict):
    """A space key with this id is already stored."""

    code = "key-already-exists"


class KeyStoreUnavailable(Unavailable):
    """The key store's backend failed; nothing was changed or released."""

    code = "key-store-unavailable"


class MasterKeyError(Unavailable):
    """The master keys could not be loaded or used (configuration problem)."""

    code = "master-key-error"


class InsecureKeyFile(MasterKeyError):
    """The master key file grants permissions to group or others."""

    code = "insecure-key-file"


class UnknownMasterKey(MasterKeyError):
    """A secret is wrapped under a master key id that is not configured."""

    code = "unknown-master-key"
