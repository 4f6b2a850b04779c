"""PostgreSQL key store (production), on psycopg 3 with a small connection pool.

Every operation is one statement in its own transaction, so it is atomic and holds no
lock longer than the statement.

Shredding residue: an UPDATE leaves the old row version (with the wrapped secret)
until VACUUM reclaims it, and WAL archives and backups keep copies for their retention
period. All of them are wrapped by the master key, so retiring that master key
version after a rotation is what removes them for good.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from keys.keystore import KeyRecord, KeyStore, Rewrap, check_aware, check_key_id
from keys.master import WrappedSecret
from keys.pg_alive import check_alive
from wire.errors import KeyAlreadyExists, KeyStoreUnavailable, StorageFull, UnknownKey

__all__ = ["PostgresKeyStore"]

_COLUMNS = "key_id, space_id, public_key, master_key_id, wrapped_secret, destroyed_at"

#: up to this many keys, ``get_many`` names each in the statement (see there)
_LISTED = 4
_SELECT_LISTED = {
    n: f"SELECT {_COLUMNS} FROM coffre_space_keys WHERE key_id IN ({', '.join(['%s'] * n)})"  # noqa: S608
    for n in range(1, _LISTED + 1)
}


class PostgresKeyStore(KeyStore):
    """Key store in the ``coffre_space_keys`` table of a PostgreSQL database.

    The table must exist: apply ``migrations/postgres`` first. Call :meth:`close` (or
    use it as a context manager) to release the pool.
    """

    def __init__(
        self, conninfo: str, *, min_size: int = 1, max_size: int = 4, timeout: float = 10.0
    ) -> None:
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=True,
            name="coffre-keystore",
            # Each operation is one statement: in autocommit it is its own transaction
            # all the same, in one round trip instead of BEGIN, statement, COMMIT
            # (a read fetches its space's key record on every call).
            kwargs={"autocommit": True},
            # a connection to a primary that died (a failover) is replaced, not handed out
            check=check_alive,
        )

    def add(self, record: KeyRecord) -> None:
        wrapped = record.wrapped
        try:
            self._execute(
                f"INSERT INTO coffre_space_keys ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
                (
                    record.key_id,
                    record.space_id,
                    record.public_key,
                    wrapped.master_key_id if wrapped else None,
                    wrapped.blob if wrapped else None,
                    record.destroyed_at,
                ),
            )
        except pg_errors.UniqueViolation:
            raise KeyAlreadyExists(f"key {record.key_id!r} already exists") from None

    def get(self, key_id: str) -> KeyRecord:
        check_key_id(key_id)
        rows = self._query(
            f"SELECT {_COLUMNS} FROM coffre_space_keys WHERE key_id = %s",  # noqa: S608
            (key_id,),
        )
        if not rows:
            raise UnknownKey(f"no key {key_id!r}")
        return _record(rows[0])

    def get_many(self, key_ids: Sequence[str]) -> dict[str, KeyRecord]:
        for key_id in key_ids:
            check_key_id(key_id)
        if not key_ids:
            return {}
        # A read asks for one or two keys: a placeholder each (one prepared statement
        # per count) spares psycopg dumping a list into an array on every read; a
        # listing's many keys still go as one array.
        if len(key_ids) <= _LISTED:
            rows = self._query(_SELECT_LISTED[len(key_ids)], tuple(key_ids))
        else:
            rows = self._query(
                f"SELECT {_COLUMNS} FROM coffre_space_keys WHERE key_id = ANY(%s)",  # noqa: S608
                (list(key_ids),),
            )
        return {row[0]: _record(row) for row in rows}

    def destroy(self, key_id: str, at: datetime) -> None:
        check_key_id(key_id)
        check_aware(at)
        # the WHERE keeps the first destruction date: destroy is idempotent
        changed = self._execute(
            "UPDATE coffre_space_keys"
            " SET master_key_id = NULL, wrapped_secret = NULL, destroyed_at = %s"
            " WHERE key_id = %s AND destroyed_at IS NULL",
            (at, key_id),
        )
        if not changed:
            self.get(key_id)  # raises UnknownKey; otherwise it was already destroyed

    def wrapped_page(self, master_key_id: str, after: str, limit: int) -> list[KeyRecord]:
        # a keyset page on (master_key_id, key_id): the index of migration 0001; each
        # page is its own short transaction, so no snapshot is held while rewrapping
        rows = self._query(
            f"SELECT {_COLUMNS} FROM coffre_space_keys"  # noqa: S608
            " WHERE master_key_id = %s AND key_id > %s ORDER BY key_id LIMIT %s",
            (master_key_id, after, limit),
        )
        return [_record(row) for row in rows]

    def rewrap(self, changes: Sequence[Rewrap]) -> int:
        if not changes:
            return 0
        # One statement for the whole batch (one round trip, one transaction). The
        # "master_key_id = old" test in it means a destroyed row (NULL) or one another
        # rotation rewrapped meanwhile is never written over.
        return self._execute(
            "UPDATE coffre_space_keys AS k"
            " SET master_key_id = v.new_id, wrapped_secret = v.blob"
            " FROM unnest(%s::text[], %s::text[], %s::text[], %s::bytea[])"
            "   AS v(key_id, old_id, new_id, blob)"
            ' WHERE k.key_id = v.key_id COLLATE "C" AND k.master_key_id = v.old_id',
            (
                [c.key_id for c in changes],
                [c.old_master_key_id for c in changes],
                [c.wrapped.master_key_id for c in changes],
                [c.wrapped.blob for c in changes],
            ),
        )

    def count_by_master(self) -> dict[str, int]:
        rows = self._query(
            "SELECT master_key_id, count(*) FROM coffre_space_keys"
            " WHERE master_key_id IS NOT NULL GROUP BY master_key_id",
            (),
        )
        return {master: int(count) for master, count in rows}

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresKeyStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _execute(self, sql: str, params: tuple[object, ...]) -> int:
        with self._translate(), self._pool.connection() as conn:
            return conn.execute(sql, params).rowcount

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._translate(), self._pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except pg_errors.UniqueViolation:
            raise  # the caller turns it into KeyAlreadyExists
        except pg_errors.DiskFull:
            raise StorageFull("key store (PostgreSQL) failed: DiskFull") from None
        except psycopg.Error as exc:
            # class name only: server messages may quote the values that failed
            raise KeyStoreUnavailable(
                f"key store (PostgreSQL) failed: {type(exc).__name__}"
            ) from None


_Row = tuple[str, UUID, bytes, str | None, bytes | None, datetime | None]


def _record(row: _Row) -> KeyRecord:
    key_id, space_id, public_key, master_key_id, blob, destroyed_at = row
    wrapped = (
        WrappedSecret(master_key_id, bytes(blob))
        if master_key_id is not None and blob is not None
        else None
    )
    return KeyRecord(
        key_id=key_id,
        space_id=space_id,
        public_key=bytes(public_key),
        wrapped=wrapped,
        destroyed_at=destroyed_at,
    )
