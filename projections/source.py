"""Where the projections read events from: the log, and a check that a batch read from
it is stored in the database the views are written to."""

from __future__ import annotations

import threading
from collections.abc import Callable
from operator import attrgetter
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import Identifier

Event = Any  # a domain event, as the mapper rebuilt it


class EventSource(Protocol):
    """The ordered log of every event; notification ids may have gaps."""

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """Up to ``limit`` events with notification id >= ``start``, in order."""
        ...

    def last_id(self) -> int:
        """The highest notification id stored (0 when empty)."""
        ...

    def stored_check(self, item: tuple[int, Event]) -> tuple[str, dict[str, Any]] | None:
        """A query that, run in the views' database, returns a row only if ``item`` is
        stored there under that notification id; ``None`` when the events live in no
        database (in memory)."""
        ...


class ApplicationSource:
    """An ``EventSource`` over an ``eventsourcing`` application's recorder."""

    #: how many batches' last events keep their stored bytes for ``stored_check``
    TAILS_KEPT = 64

    def __init__(self, app: Application) -> None:
        self._recorder = app.recorder
        self._mapper = app.mapper
        self._stored: str | None = None
        #: how the recorder writes an originator id: uuid or text on PostgreSQL (the
        #: datastore's choice, so compared as text), 32 hex digits on SQLite
        self._originator: Callable[[UUID], str] = str
        #: the stored bytes of the last event of each recent batch, by notification id
        self._tails: dict[int, bytes] = {}
        self._tails_lock = threading.Lock()
        recorder = self._recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            table = Identifier(recorder.datastore.schema, recorder.events_table_name)
            self._stored = (
                f"SELECT 1 FROM {table.as_string()} WHERE notification_id = %(i)s "  # noqa: S608 - ours
                "AND originator_id::text = %(o)s AND originator_version = %(v)s"
            )
        elif isinstance(recorder, SQLiteApplicationRecorder):
            self._stored = (
                f"SELECT 1 FROM {recorder.events_table_name} WHERE rowid = %(i)s "  # noqa: S608 - ours
                "AND originator_id = %(o)s AND originator_version = %(v)s"
            )
            self._originator = attrgetter("hex")

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """Up to ``limit`` events with notification id >= ``start``, in order."""
        notifications = self._recorder.select_notifications(start=start, limit=limit)
        if notifications and self._stored is not None:
            with self._tails_lock:
                self._tails[notifications[-1].id] = notifications[-1].state
                while len(self._tails) > self.TAILS_KEPT:
                    del self._tails[next(iter(self._tails))]
        return [(n.id, self._mapper.to_domain_event(n)) for n in notifications]

    def last_id(self) -> int:
        """The highest notification id stored (0 when empty)."""
        return self._recorder.max_notification_id() or 0

    def stored_check(self, item: tuple[int, Event]) -> tuple[str, dict[str, Any]] | None:
        """By the notification id's index, in the database the views share with the
        events (see ``EventSource``); ``None`` for an in-memory store.

        The event's stored bytes are compared too when it ended a recent batch (the
        event checked is a batch's last): after a failover the same space may record
        its next version under the very id a lost event had, with other content.
        """
        if self._stored is None:
            return None
        notification_id, event = item
        params = {
            "i": notification_id,
            "o": self._originator(event.originator_id),
            "v": event.originator_version,
        }
        with self._tails_lock:
            state = self._tails.get(notification_id)
        if state is None:
            return self._stored, params
        return f"{self._stored} AND state = %(s)s", {**params, "s": state}


class UnstoredBatch(Exception):
    """A batch read from a server whose events the views' server does not hold (read from
    a primary as it died, applied on the standby promoted in its place): not applied,
    so the next pass reads it again from the server the views are on."""
