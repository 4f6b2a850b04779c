"""Where views live: one small adapter per database, on the library's tracking recorders.

A projection writes its rows and its position in ONE transaction (``transaction()``
then ``track()``), which is what makes a worker killed at any point resume without
losing or doubling an event. SQL is written once with ``%(name)s`` parameters; the
SQLite adapter rewrites them to ``:name``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

_NAMED = re.compile(r"%\((\w+)\)s")

Row = dict[str, Any]


class Cursor(Protocol):
    """The part of a DB-API cursor that projections use."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run one statement."""
        ...


class ViewStore(ABC):
    """A database holding projection views and their tracking positions."""

    dialect: str
    #: the library's tracking table in this database
    tracking_table: str

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[ViewCursor]:
        """A transaction committed on success, rolled back on error."""

    @abstractmethod
    def position(self, name: str) -> int:
        """The last notification id projected by ``name`` (0 when none)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows of a read-only query, as dicts with plain values."""
        with self.transaction() as cursor:
            return cursor.fetch(sql, params)


class ViewCursor:
    """A cursor that speaks one SQL dialect and tracks positions in its transaction."""

    def __init__(self, cursor: Any, store: ViewStore, track: Any) -> None:
        self._cursor = cursor
        self._store = store
        self._track = track

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement."""
        statement, values = self._adapt(sql, params)
        if values is None:
            self._cursor.execute(statement)
        else:
            self._cursor.execute(statement, values)

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each row of parameters."""
        if rows:
            statement, _ = self._adapt(sql, None)
            self._cursor.executemany(statement, [self._values(row) for row in rows])

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query and return its rows as dicts of plain values."""
        self.execute(sql, params)
        return [{k: _plain(v) for k, v in dict(row).items()} for row in self._cursor.fetchall()]

    def untrack(self, name: str) -> None:
        """Forget, in this transaction, the position of ``name`` (for a rebuild)."""
        self.execute(
            f"DELETE FROM {self._store.tracking_table} WHERE application_name = %(n)s",  # noqa: S608
            {"n": name},
        )

    def track(self, name: str, notification_id: int) -> None:
        """Record, in this transaction, that ``name`` projected up to ``notification_id``."""
        self._track(self._cursor, Tracking(name, notification_id))

    def _adapt(self, sql: str, params: Mapping[str, Any] | None) -> tuple[str, Any]:
        if self._store.dialect == "sqlite":
            sql = _NAMED.sub(r":\1", sql)
        return sql, (self._values(params) if params is not None else None)

    def _values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if self._store.dialect != "sqlite":
            return dict(params)
        return {key: _sqlite_value(value) for key, value in params.items()}


def _sqlite_value(value: Any) -> Any:
    # SQLite has no native types for these; ISO-8601 UTC text sorts like time.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


class SQLiteViewStore(ViewStore):
    """Views in the embedded SQLite file."""

    dialect = "sqlite"
    tracking_table = "tracking"

    def __init__(self, path: str) -> None:
        self._recorder = SQLiteTrackingRecorder(SQLiteDatastore(db_name=path, lock_timeout=10))
        self._recorder.create_table()

    @contextmanager
    def transaction(self) -> Iterator[ViewCursor]:
        """A transaction committed on success, rolled back on error."""
        with self._recorder.datastore.transaction(commit=True) as cursor:
            yield ViewCursor(cursor, self, self._recorder._insert_tracking)

    def position(self, name: str) -> int:
        """The last notification id projected by ``name`` (0 when none)."""
        return self._recorder.max_tracking_id(name) or 0


class PostgresViewStore(ViewStore):
    """Views in PostgreSQL, beside the events."""

    dialect = "postgres"
    tracking_table = "view_tracking"

    def __init__(self, params: Mapping[str, str], pool_size: int = 2) -> None:
        datastore = PostgresDatastore(
            dbname=params["dbname"],
            host=params.get("host", "127.0.0.1"),
            port=params.get("port", "5432"),
            user=params.get("user", "postgres"),
            password=params.get("password", ""),
            pool_size=pool_size,
            lock_timeout=5,
        )
        self._recorder = PostgresTrackingRecorder(datastore, tracking_table_name="view_tracking")
        self._recorder.create_table()

    @contextmanager
    def transaction(self) -> Iterator[ViewCursor]:
        """A transaction committed on success, rolled back on error."""
        with self._recorder.datastore.transaction(commit=True) as cursor:
            yield ViewCursor(cursor, self, self._recorder._insert_tracking)

    def position(self, name: str) -> int:
        """The last notification id projected by ``name`` (0 when none)."""
        return self._recorder.max_tracking_id(name) or 0

    def close(self) -> None:
        """Close the connection pool."""
        self._recorder.datastore.close()
