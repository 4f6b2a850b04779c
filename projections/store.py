"""Where views live: one small adapter per database, on the library's tracking recorders.

A projection writes its rows and its position in ONE transaction (``transaction()``
then ``track()``), which is what makes a worker killed at any point resume without
losing or doubling an event. SQL is written once with ``%(name)s`` parameters; the
SQLite adapter rewrites them to ``:name``. Rows of insert-only tables go through
``ViewCursor.copy_rows`` (``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format

from keys.pg_alive import install as install_alive_check
from vault.pg_locks import advisory_key

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
    #: seconds a batch waits for a view another runner holds (``ViewCursor.claim``)
    lock_timeout: int

    @abstractmethod
    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[ViewCursor]:
        """A transaction committed on success, rolled back on error.

        ``durable=False`` is for a projection's batch: the commit need not wait for the
        write-ahead log to reach the disk (PostgreSQL's asynchronous commit). A server
        crash may then lose the last batches committed, but each batch's rows and its
        position together, never one without the other, so the worker replays exactly
        those events (invariant 6); a durable commit after it (a signed checkpoint)
        flushes them too, since the log is written in order.
        """

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
        #: PostgreSQL: the pipeline statements are queued in, while there is one
        self._pipeline: Any = None

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement.

        On PostgreSQL statements are pipelined: sent without waiting for each result,
        so a batch's inserts and updates cost one round trip, not one each. A failed
        statement raises at the next read, ``copy_rows`` or ``settle`` (all before the
        commit), and the transaction rolls back as usual.
        """
        statement, values = self._adapt(sql, params)
        if self._pipeline is None and self._store.dialect == "postgres":
            self._pipeline = self._cursor.connection.pipeline()
            self._pipeline.__enter__()
        if values is None:
            self._cursor.execute(statement)
        else:
            self._cursor.execute(statement, values)

    def settle(self, error: BaseException | None = None) -> None:
        """Wait for every queued statement; raises the error of the first that failed.

        With ``error`` (the transaction is failing anyway) only leave pipeline mode, so
        the rollback and the pooled connection find it in its normal state.
        """
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            kind = type(error) if error is not None else None
            pipeline.__exit__(kind, error, error.__traceback__ if error else None)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Append rows (value tuples in ``columns`` order) to an insert-only table.

        The one way projections write rows they never update: ``COPY`` on PostgreSQL
        (one stream instead of a statement per row, several times faster), one
        ``INSERT`` per row on SQLite. It runs in this cursor's transaction, so the rows
        commit or roll back with the tracking position like any other write.
        ``table`` and ``columns`` are our identifiers, never input.
        """
        if not rows:
            return
        names = ", ".join(columns)
        if self._store.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            self._cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - ours
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )
            return
        self.settle()  # COPY cannot run in a pipeline; it follows what is queued
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @property
    def dialect(self) -> str:
        """``"postgres"`` or ``"sqlite"``: for the few statements written per dialect."""
        return self._store.dialect

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query and return its rows as dicts of plain values."""
        if self._pipeline is None:
            # nothing queued ahead of it: one round trip, no pipeline to enter and sync
            statement, values = self._adapt(sql, params)
            if values is None:
                self._cursor.execute(statement)
            else:
                self._cursor.execute(statement, values)
        else:
            self.execute(sql, params)
        rows = self._cursor.fetchall()
        if self._store.dialect != "postgres":
            return [{k: _plain(v) for k, v in dict(row).items()} for row in rows]
        # Only the columns whose type needs it are converted: a page of the access log
        # is 51 rows of 19 columns, and converting every value was 40 % of its Python.
        # Their names come from the result itself (``description`` builds a Column
        # object per column, ~40 us a page).
        result = self._cursor.pgresult
        converted = (
            [
                result.fname(i).decode()
                for i in range(result.nfields)
                if result.ftype(i) in _CONVERTED_TYPES
            ]
            if result is not None
            else []
        )
        plain = [row if type(row) is dict else dict(row) for row in rows]
        for row in plain:
            for name in converted:
                if (value := row[name]) is not None:
                    row[name] = _plain(value)
        return plain

    def untrack(self, name: str) -> None:
        """Forget, in this transaction, the position of ``name`` (for a rebuild)."""
        self.execute(
            f"DELETE FROM {self._store.tracking_table} WHERE application_name = %(n)s",  # noqa: S608
            {"n": name},
        )

    def claim(
        self, name: str, check: tuple[str, Mapping[str, Any]] | None = None
    ) -> tuple[int, bool]:
        """Hold ``name`` for this transaction alone; return its position in it and
        whether ``check`` (a query; none counts as found) finds a row, in one round trip.

        Runners in other processes (a worker, a request's catch-up in each API process)
        project the same log: without this, two would apply one batch and the second's
        tracking insert would fail as if the event were poisoned. The hold is released
        at commit or rollback; a runner that waits past the lock timeout gets a
        transient error and tries again later.
        """
        if self.dialect == "postgres":
            # Bounded: a runner hung mid-batch (stopped, or its network stalled) holds the
            # view until PostgreSQL sees its connection die, which may be never. Every
            # other runner, a request's catch-up included, would wait on it as long.
            # Pipelined with the lock: no round trip more. ``set_config`` (local to the
            # transaction) takes the value as a parameter, where SET takes none.
            self.execute(
                "SELECT set_config('lock_timeout', %(t)s, true)",
                {"t": f"{self._store.lock_timeout}s"},
            )
            self.execute(
                "SELECT pg_advisory_xact_lock(%(k)s)", {"k": advisory_key(f"coffre.view:{name}")}
            )
        else:
            # A write first: SQLite takes its one writer lock now, before the read, so
            # the position read is the one this transaction will move.
            self.execute(
                f"UPDATE {self._store.tracking_table} SET notification_id = notification_id "  # noqa: S608 - ours
                "WHERE application_name = %(n)s",
                {"n": name},
            )
        found = f"EXISTS ({check[0]})" if check else "1 = 1"
        rows = self.fetch(
            f"SELECT MAX(notification_id) AS at, {found} AS found "  # noqa: S608 - ours
            f"FROM {self._store.tracking_table} WHERE application_name = %(n)s",
            {**(check[1] if check else {}), "n": name},
        )
        return int(rows[0]["at"] or 0), bool(rows[0]["found"])

    def track(self, name: str, notification_id: int) -> None:
        """Record, in this transaction, that ``name`` projected up to ``notification_id``."""
        self.settle()
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


#: PostgreSQL's type OIDs of the values ``_plain`` changes: timestamp, timestamptz (uuids
#: arrive as their text already: ``_views_adapters``)
_CONVERTED_TYPES = frozenset({1114, 1184})


def _views_adapters() -> AdaptersMap:
    """psycopg's adapters, but a uuid column loads as its text: what ``fetch`` returns
    for it, without building a UUID object to format it again (102 in a log page)."""
    adapters = AdaptersMap(psycopg.adapters)
    text = adapters.get_loader(adapters.types["text"].oid, Format.TEXT)
    adapters.register_loader("uuid", text)
    return adapters


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
    lock_timeout = 10

    def __init__(self, path: str) -> None:
        self._recorder = SQLiteTrackingRecorder(
            SQLiteDatastore(db_name=path, lock_timeout=self.lock_timeout)
        )
        self._recorder.create_table()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[ViewCursor]:
        """A transaction committed on success, rolled back on error (always durable)."""
        with self._recorder.datastore.transaction(commit=True) as cursor:
            yield ViewCursor(cursor, self, self._recorder._insert_tracking)

    def position(self, name: str) -> int:
        """The last notification id projected by ``name`` (0 when none)."""
        return self._recorder.max_tracking_id(name) or 0


class PostgresViewStore(ViewStore):
    """Views in PostgreSQL, beside the events."""

    dialect = "postgres"
    tracking_table = "view_tracking"

    def __init__(
        self, params: Mapping[str, str], pool_size: int = 2, lock_timeout: int = 5
    ) -> None:
        self.lock_timeout = lock_timeout
        datastore = PostgresDatastore(
            dbname=params["dbname"],
            host=params.get("host", "127.0.0.1"),
            port=params.get("port", "5432"),
            user=params.get("user", "postgres"),
            password=params.get("password", ""),
            pool_size=pool_size,
            lock_timeout=lock_timeout,
            # after a failover every pooled connection is dead: find that before use
            pre_ping=True,
        )
        install_alive_check(datastore.pool)
        # every connection of the views' pool, those made after a failover too
        datastore.pool.kwargs["context"] = _views_adapters()
        self._recorder = PostgresTrackingRecorder(datastore, tracking_table_name="view_tracking")
        self._recorder.create_table()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows of a read-only query, in one round trip: a lone statement is its own
        snapshot, so it needs no BEGIN and COMMIT around it (two round trips of the four
        a page of the access log took, bench row 8)."""
        with self._recorder.datastore.get_connection() as conn:
            conn.autocommit = True
            try:
                return ViewCursor(conn.cursor(), self, None).fetch(sql, params)
            finally:
                # back as the pool lends it; a broken connection is the pool's to drop
                with contextlib.suppress(psycopg.Error):
                    conn.autocommit = False

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[ViewCursor]:
        """A transaction committed on success, rolled back on error (see ``ViewStore``)."""
        with self._recorder.datastore.transaction(commit=True) as cursor:
            if not durable:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            view = ViewCursor(cursor, self, self._recorder._insert_tracking)
            try:
                yield view
            except BaseException as error:
                view.settle(error)
                raise
            view.settle()  # the last queued statements, before the commit

    def position(self, name: str) -> int:
        """The last notification id projected by ``name`` (0 when none)."""
        return self._recorder.max_tracking_id(name) or 0

    def close(self) -> None:
        """Close the connection pool."""
        self._recorder.datastore.close()
