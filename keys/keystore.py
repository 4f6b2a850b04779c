"""The key store: the one mutable place where wrapped space secret keys live.

Events only ever carry key ids and sealed data keys (DESIGN invariant 5); the X25519
secret key that opens a space's documents is kept here, wrapped by a master key, and
set to NULL when the space key is destroyed (crypto-shredding).

Implementations: :class:`MemoryKeyStore` (this module, a shipped fake),
``SQLiteKeyStore`` (``keys.keystore_sqlite``) and ``PostgresKeyStore``
(``keys.keystore_postgres``); both are also importable from here. Tables come from
``migrations/*/0001.keystore.sql``, never from these classes.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from keys.master import WrappedSecret
from wire.errors import InvalidInput, InvalidKey, KeyAlreadyExists, UnknownKey

if TYPE_CHECKING:
    from keys.keystore_postgres import PostgresKeyStore
    from keys.keystore_sqlite import SQLiteKeyStore

__all__ = [
    "KeyRecord",
    "KeyStore",
    "MemoryKeyStore",
    "PostgresKeyStore",
    "Rewrap",
    "SQLiteKeyStore",
]

_PUBLIC_KEY_SIZE = 32
_MAX_KEY_ID = 128


@dataclass(frozen=True)
class KeyRecord:
    """One space key: its public half, and its wrapped secret half until destroyed.

    Invariant: ``wrapped is None`` exactly when ``destroyed_at`` is set.
    """

    key_id: str
    space_id: UUID
    public_key: bytes = field(repr=False)
    wrapped: WrappedSecret | None
    destroyed_at: datetime | None = None

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        if not isinstance(self.space_id, UUID):
            raise InvalidInput("space_id must be a UUID", field="space_id")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != _PUBLIC_KEY_SIZE:
            raise InvalidKey(f"a public key is exactly {_PUBLIC_KEY_SIZE} bytes")
        if (self.wrapped is None) != (self.destroyed_at is not None):
            raise InvalidInput("a key record is either live (wrapped) or destroyed (dated)")
        if self.destroyed_at is not None:
            check_aware(self.destroyed_at)

    @property
    def destroyed(self) -> bool:
        """True once the secret key was shredded."""
        return self.destroyed_at is not None


def check_key_id(key_id: str) -> None:
    """Raise :class:`InvalidKey` unless ``key_id`` is a sane, printable id."""
    if (
        not isinstance(key_id, str)
        or not 0 < len(key_id) <= _MAX_KEY_ID
        or not key_id.isascii()
        or not key_id.isprintable()
    ):
        raise InvalidKey(f"a key id is 1-{_MAX_KEY_ID} printable ASCII characters")


def check_aware(at: datetime) -> None:
    """Raise :class:`InvalidInput` for naive datetimes (ambiguous across servers)."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("timestamps must be timezone-aware", field="at")


@dataclass(frozen=True)
class Rewrap:
    """One row of a rotation batch: ``key_id``, wrapped under ``old_master_key_id``
    when it was read, now to be held as ``wrapped``."""

    key_id: str
    old_master_key_id: str
    wrapped: WrappedSecret


class KeyStore(ABC):
    """Port: where wrapped space secret keys are kept, replaced and destroyed."""

    @abstractmethod
    def add(self, record: KeyRecord) -> None:
        """Stores a new record; raises KeyAlreadyExists if the key id is taken."""

    @abstractmethod
    def get(self, key_id: str) -> KeyRecord:
        """Returns the record for key_id; raises UnknownKey."""

    def get_many(self, key_ids: Sequence[str]) -> dict[str, KeyRecord]:
        """The records of ``key_ids`` that exist, by key id (unknown ids are absent).

        Raises :class:`InvalidKey` for a malformed id, before looking anything up, as
        every store does."""
        for key_id in key_ids:
            check_key_id(key_id)
        found: dict[str, KeyRecord] = {}
        for key_id in key_ids:
            try:
                found[key_id] = self.get(key_id)
            except UnknownKey:
                continue
        return found

    @abstractmethod
    def destroy(self, key_id: str, at: datetime) -> None:
        """Irreversibly drops the wrapped secret; idempotent (keeps the first date)."""

    @abstractmethod
    def wrapped_page(self, master_key_id: str, after: str, limit: int) -> list[KeyRecord]:
        """Up to ``limit`` live records wrapped under ``master_key_id`` whose key id sorts
        after ``after``, in key id order (a keyset page: rotation walks the store so)."""

    @abstractmethod
    def rewrap(self, changes: Sequence[Rewrap]) -> int:
        """Applies a batch of rewraps in one transaction; returns how many rows changed.

        A row changes only if it is still live and wrapped under the change's
        ``old_master_key_id``: a destroyed key is never resurrected, and a row another
        rotation rewrapped meanwhile is left as it is (so a batch may be replayed).
        """

    @abstractmethod
    def count_by_master(self) -> dict[str, int]:
        """How many live keys each master key id wraps (ids that wrap none are absent)."""

    def count_wrapped_by(self, master_key_id: str) -> int:
        """How many live keys are wrapped under ``master_key_id``."""
        return self.count_by_master().get(master_key_id, 0)

    def close(self) -> None:  # noqa: B027  (optional hook, a no-op by default)
        """Releases connections; the store must not be used afterwards."""


class MemoryKeyStore(KeyStore):
    """In-memory key store for tests and demos; thread-safe, forgets on exit."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._lock = threading.Lock()

    def add(self, record: KeyRecord) -> None:
        with self._lock:
            if record.key_id in self._records:
                raise KeyAlreadyExists(f"key {record.key_id!r} already exists")
            self._records[record.key_id] = record

    def get(self, key_id: str) -> KeyRecord:
        with self._lock:
            return self._get(key_id)

    def destroy(self, key_id: str, at: datetime) -> None:
        check_aware(at)
        with self._lock:
            record = self._get(key_id)
            if not record.destroyed:
                self._records[key_id] = replace(record, wrapped=None, destroyed_at=at)

    def wrapped_page(self, master_key_id: str, after: str, limit: int) -> list[KeyRecord]:
        with self._lock:
            page = sorted(
                (
                    record
                    for record in self._records.values()
                    if record.wrapped is not None
                    and record.wrapped.master_key_id == master_key_id
                    and record.key_id > after
                ),
                key=lambda record: record.key_id,
            )
        return page[:limit]

    def rewrap(self, changes: Sequence[Rewrap]) -> int:
        changed = 0
        with self._lock:
            for change in changes:
                record = self._records.get(change.key_id)
                if (
                    record is not None
                    and record.wrapped is not None
                    and record.wrapped.master_key_id == change.old_master_key_id
                ):
                    self._records[change.key_id] = replace(record, wrapped=change.wrapped)
                    changed += 1
        return changed

    def count_by_master(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for record in self._records.values():
                if record.wrapped is not None:
                    master = record.wrapped.master_key_id
                    counts[master] = counts.get(master, 0) + 1
            return counts

    def _get(self, key_id: str) -> KeyRecord:
        try:
            return self._records[key_id]
        except KeyError:
            raise UnknownKey(f"no key {key_id!r}") from None


def __getattr__(name: str) -> object:
    # lazy, so importing the port does not import sqlite3/psycopg for users of the fake
    if name == "SQLiteKeyStore":
        from keys.keystore_sqlite import SQLiteKeyStore

        return SQLiteKeyStore
    if name == "PostgresKeyStore":
        from keys.keystore_postgres import PostgresKeyStore

        return PostgresKeyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
