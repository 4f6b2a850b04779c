"""The vault's PostgreSQL event recorder: an insert of events is one round trip.

eventsourcing 9.5's recorder sends, for every insert, ``BEGIN``, ``SET LOCAL
lock_timeout``, ``LOCK TABLE … IN EXCLUSIVE MODE``, ``NOTIFY``, the ``INSERT`` and
``COMMIT`` in a pipeline: six statements and the pipeline's machinery in Python, for
each read recorded (bench row 4, 5 and 14). Here the same statements run inside one
PL/pgSQL function, called by one statement in autocommit, so the call is its own
transaction and takes the same lock, until its commit, in the same order:

* the table lock still serialises writers, so notification ids are issued in commit
  order and a follower tailing the log never passes over a gap filled later;
* ``NOTIFY`` is still delivered at commit;
* ``lock_timeout`` still bounds the wait for the lock (``COFFRE_PG_LOCK_TIMEOUT``);
* a duplicate ``(originator_id, originator_version)`` still raises the datastore's
  ``IntegrityError`` (a concurrent change of the same aggregate), and nothing of the
  batch is stored.

The table and its rows are unchanged, so stores written by the stock recorder read as
before, and the stock recorder can read what this one writes. eventsourcing's own
insert function (``es_insert_events_<type>``, which takes no table lock) is not created
any more; an existing one is left alone and unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

__all__ = ["OneTripRecorder"]


class OneTripRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` whose inserts are one locked function call."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # named after the table: eventsourcing's function is named after the id type
        # only, so two applications in one schema would replace each other's
        name = f"{events_table_name}_insert"
        self.check_identifier_length(name)
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        function = Identifier(name)
        # One CREATE OR REPLACE at start-up, in the place of eventsourcing's (as before,
        # so concurrent start-ups race no more than they did).
        self.sql_create_statements[self.create_insert_function_statement_index] = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "BEGIN "
            "SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {schema}.{table} AS t "
            "(originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
            "RETURNING notification_id; "
            "END; $BODY$"
        ).format(
            schema=schema,
            function=function,
            event=Identifier(self.stored_event_type_name),
            lock_timeout=self.datastore.lock_timeout,
            table=table,
            channel=Identifier(self.channel_name),
        )
        self._insert_call = SQL("SELECT * FROM {schema}.{function}(%s)").format(
            schema=schema, function=function
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Store ``stored_events`` atomically; their notification ids, in order."""
        if not stored_events or any(value is not None for value in kwargs.values()):
            # a tracking record (a process application's) takes the stock path; the
            # vault's saves pass ``tracking=None``
            return super().insert_events(stored_events, **kwargs)
        events = [
            self.construct_pg_stored_event(
                event.originator_id, event.originator_version, event.topic, event.state
            )
            for event in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # autocommit: the call is the transaction; the lock is held until it commits
            curs.execute(self._insert_call, (events,), prepare=True)
            return [next(iter(row.values())) for row in curs.fetchall()]
