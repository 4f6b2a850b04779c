"""SQLite key store (the embedded default), on the stdlib ``sqlite3`` module.

Web servers call it from many threads, so each thread gets its own connection (WAL
lets readers proceed while one writer writes). Every operation is one statement in
autocommit mode, hence atomic, and ``busy_timeout`` absorbs short writer contention.

Shredding residue: ``secure_delete`` makes SQLite zero the old wrapped secret in the
database file when the page is rewritten, but copies may linger in the WAL until it is
recycled, in free disk blocks and in backups. Those copies are still wrapped by the
master key, so retiring that master key version after a rotation removes them too.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from uuid import UUID

from keys.keystore import KeyRecord, KeyStore, Rewrap, check_aware, check_key_id
from keys.master import WrappedSecret
from wire.errors import KeyAlreadyExists, KeyStoreUnavailable, StorageFull, UnknownKey

__all__ = ["SQLiteKeyStore"]

#: key ids bound per ``IN (...)`` statement
_IN_PAGE = 500
_COLUMNS = "key_id, space_id, public_key, master_key_id, wrapped_secret, destroyed_at"


class SQLiteKeyStore(KeyStore):
    """Key store in the ``coffre_space_keys`` table of a SQLite database file.

    The table must exist: apply ``migrations/sqlite`` first.
    """

    def __init__(self, path: str, *, busy_timeout: float = 10.0) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        # every connection, so close() can reach those opened by other threads
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def add(self, record: KeyRecord) -> None:
        wrapped = record.wrapped
        with self._translate():
            try:
                self._conn().execute(
                    f"INSERT INTO coffre_space_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                    (
                        record.key_id,
                        str(record.space_id),
                        record.public_key,
                        wrapped.master_key_id if wrapped else None,
                        wrapped.blob if wrapped else None,
                        _to_text(record.destroyed_at),
                    ),
                )
            except sqlite3.IntegrityError:
                raise KeyAlreadyExists(f"key {record.key_id!r} already exists") from None

    def get(self, key_id: str) -> KeyRecord:
        check_key_id(key_id)
        with self._translate():
            row = (
                self._conn()
                .execute(
                    f"SELECT {_COLUMNS} FROM coffre_space_keys WHERE key_id = ?",  # noqa: S608
                    (key_id,),
                )
                .fetchone()
            )
        if row is None:
            raise UnknownKey(f"no key {key_id!r}")
        return _record(row)

    def get_many(self, key_ids: Sequence[str]) -> dict[str, KeyRecord]:
        for key_id in key_ids:
            check_key_id(key_id)
        found: dict[str, KeyRecord] = {}
        with self._translate():
            # in pages: SQLite caps the number of bound parameters per statement
            for start in range(0, len(key_ids), _IN_PAGE):
                page = list(key_ids[start : start + _IN_PAGE])
                marks = ", ".join("?" * len(page))
                rows = (
                    self._conn()
                    .execute(
                        f"SELECT {_COLUMNS} FROM coffre_space_keys WHERE key_id IN ({marks})",  # noqa: S608
                        page,
                    )
                    .fetchall()
                )
                found.update((row[0], _record(row)) for row in rows)
        return found

    def destroy(self, key_id: str, at: datetime) -> None:
        check_key_id(key_id)
        check_aware(at)
        with self._translate():
            # the WHERE keeps the first destruction date: destroy is idempotent
            changed = (
                self._conn()
                .execute(
                    "UPDATE coffre_space_keys"
                    " SET master_key_id = NULL, wrapped_secret = NULL, destroyed_at = ?"
                    " WHERE key_id = ? AND destroyed_at IS NULL",
                    (_to_text(at), key_id),
                )
                .rowcount
            )
        if not changed:
            self.get(key_id)  # raises UnknownKey; otherwise it was already destroyed

    def wrapped_page(self, master_key_id: str, after: str, limit: int) -> list[KeyRecord]:
        # a keyset page on (master_key_id, key_id): the index of migration 0001
        with self._translate():
            rows = (
                self._conn()
                .execute(
                    f"SELECT {_COLUMNS} FROM coffre_space_keys"  # noqa: S608
                    " WHERE master_key_id = ? AND key_id > ? ORDER BY key_id LIMIT ?",
                    (master_key_id, after, limit),
                )
                .fetchall()
            )
        return [_record(row) for row in rows]

    def rewrap(self, changes: Sequence[Rewrap]) -> int:
        conn = self._conn()
        with self._translate():
            # one write transaction per batch: a kill leaves whole batches done or not
            conn.execute("BEGIN IMMEDIATE")
            try:
                # "master_key_id = old" in the same statement: a destroyed row (NULL) or
                # one rewrapped meanwhile is never written over
                changed = conn.executemany(
                    "UPDATE coffre_space_keys SET master_key_id = ?, wrapped_secret = ?"
                    " WHERE key_id = ? AND master_key_id = ?",
                    [
                        (c.wrapped.master_key_id, c.wrapped.blob, c.key_id, c.old_master_key_id)
                        for c in changes
                    ],
                ).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return int(changed)

    def count_by_master(self) -> dict[str, int]:
        with self._translate():
            rows = (
                self._conn()
                .execute(
                    "SELECT master_key_id, count(*) FROM coffre_space_keys"
                    " WHERE master_key_id IS NOT NULL GROUP BY master_key_id"
                )
                .fetchall()
            )
        return {master: int(count) for master, count in rows}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            if self._closed:
                raise KeyStoreUnavailable("the key store is closed")
            # check_same_thread=False only so close() may close it from another
            # thread; in use, each connection stays with the thread that opened it
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            self._connections.append(conn)
            # Under the lock: a switch of journal mode takes an exclusive lock that the
            # busy timeout does not wait for, so threads opening their connections at
            # once could see "database is locked" (seen in a clean CI run).
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA secure_delete = ON")
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            # SQLite messages name tables and constraints, never bound values
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise StorageFull(f"key store (SQLite) failed: {exc}") from None
            raise KeyStoreUnavailable(f"key store (SQLite) failed: {exc}") from None


def _to_text(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def _record(row: tuple[str, str, bytes, str | None, bytes | None, str | None]) -> KeyRecord:
    key_id, space_id, public_key, master_key_id, blob, destroyed_at = row
    wrapped = (
        WrappedSecret(master_key_id, bytes(blob))
        if master_key_id is not None and blob is not None
        else None
    )
    return KeyRecord(
        key_id=key_id,
        space_id=UUID(space_id),
        public_key=bytes(public_key),
        wrapped=wrapped,
        destroyed_at=datetime.fromisoformat(destroyed_at) if destroyed_at else None,
    )
