"""The vault's PostgreSQL event recorder (``vault.eventstore_postgres``) on a real server:
one statement per insert, with the stock recorder's lock, order, notification and
conflict behaviour, and stores of either recorder readable by the other."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import resolve_topic

from coffre.bootstrap import Coffre
from keys.master import MasterKeys
from tests.scenarios.conftest import Cast, deposit, read
from vault.eventstore_postgres import OneTripRecorder
from vault.settings import Settings

pytestmark = pytest.mark.postgres

WRITERS = 6
INSERTS = 40


def datastore(params: dict[str, str]) -> PostgresDatastore:
    """A datastore on the test database, pooled as the vault's is."""
    return PostgresDatastore(
        dbname=params["dbname"],
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", "5432"),
        user=params.get("user", "postgres"),
        password=params.get("password", ""),
        pool_size=WRITERS + 2,
        lock_timeout=5,
    )


def recorder(params: dict[str, str], cls: type[PostgresApplicationRecorder]) -> Any:
    """A recorder of ``cls`` on the vault's events table, created as the vault does."""
    made = cls(datastore(params), events_table_name="vault_events")
    made.create_table()
    return made


def event(originator: uuid.UUID | None = None, version: int = 1) -> StoredEvent:
    """A stored event of a fresh aggregate (or of ``originator`` at ``version``)."""
    return StoredEvent(originator or uuid.uuid4(), version, "tests:Event", b'{"n":1}')


@pytest.fixture
def one_trip(pg_database: dict[str, str]) -> Iterator[OneTripRecorder]:
    """The vault's recorder on a fresh database."""
    made = recorder(pg_database, OneTripRecorder)
    yield made
    made.datastore.close()


def test_the_vault_is_configured_with_this_recorder() -> None:
    settings = Settings(
        database="postgres", env="development", master_keys=MasterKeys.generate().current.to_line()
    )
    topic = settings.event_store_env()["APPLICATION_RECORDER_TOPIC"]
    assert resolve_topic(topic) is OneTripRecorder


def test_an_insert_is_one_statement_outside_any_pipeline_or_transaction(
    one_trip: OneTripRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    real_execute = psycopg.Cursor.execute

    def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        assert self.connection.autocommit
        assert self.connection._pipeline is None
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    ids = one_trip.insert_events([event(), event(), event()], tracking=None)  # as the vault
    assert len(statements) == 1
    assert ids is not None
    assert len(ids) == 3
    assert ids == sorted(ids)


def test_a_conflicting_batch_raises_integrity_error_and_stores_nothing(
    one_trip: OneTripRecorder,
) -> None:
    taken = uuid.uuid4()
    one_trip.insert_events([event(taken)])
    fresh = uuid.uuid4()
    with pytest.raises(IntegrityError):
        one_trip.insert_events([event(fresh), event(taken)])
    assert one_trip.select_events(fresh) == []
    assert len(one_trip.select_notifications(start=1, limit=10)) == 1


def test_notification_ids_are_issued_in_commit_order_under_concurrent_writers(
    one_trip: OneTripRecorder,
) -> None:
    # A follower reading "everything after the last id I saw" must never find, later,
    # an id lower than one it already saw: the table lock is what guarantees it.
    seen: list[list[int]] = []
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(INSERTS):
                one_trip.insert_events([event(), event()])
        except BaseException as failure:  # reported by the test, not lost in a thread
            failures.append(failure)

    def follow() -> None:
        while not done.is_set():
            seen.append([n.id for n in one_trip.select_notifications(start=1, limit=10_000)])

    follower = threading.Thread(target=follow)
    writers = [threading.Thread(target=write) for _ in range(WRITERS)]
    follower.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    done.set()
    follower.join()
    assert failures == []
    final = [n.id for n in one_trip.select_notifications(start=1, limit=10_000)]
    assert len(final) == WRITERS * INSERTS * 2
    for snapshot in seen:
        if snapshot:
            # every id below the highest one seen was already visible then
            assert snapshot == [i for i in final if i <= snapshot[-1]]


def test_an_insert_notifies_listeners_at_commit(
    one_trip: OneTripRecorder, pg_database: dict[str, str]
) -> None:
    with psycopg.connect(**pg_database, autocommit=True) as listener:
        listener.execute(f'LISTEN "{one_trip.channel_name}"')
        one_trip.insert_events([event()])
        notices = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.channel for n in notices] == [one_trip.channel_name]


def test_stores_of_the_stock_recorder_and_of_this_one_read_each_other(
    pg_database: dict[str, str],
) -> None:
    stock = recorder(pg_database, PostgresApplicationRecorder)
    aggregate = uuid.uuid4()
    stock.insert_events([event(aggregate, 1)])
    stock.datastore.close()

    ours = recorder(pg_database, OneTripRecorder)
    assert [e.originator_version for e in ours.select_events(aggregate)] == [1]
    ours.insert_events([event(aggregate, 2)])
    with pytest.raises(IntegrityError):
        ours.insert_events([event(aggregate, 2)])
    ours.datastore.close()

    again = recorder(pg_database, PostgresApplicationRecorder)
    assert [e.originator_version for e in again.select_events(aggregate)] == [1, 2]
    assert [n.id for n in again.select_notifications(start=1, limit=10)] == [1, 2]
    again.datastore.close()


@pytest.mark.s3
@pytest.mark.parametrize("coffre", ["postgres-s3"], indirect=True)
def test_a_vault_read_records_its_access_in_one_statement(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(coffre.vault.recorder, OneTripRecorder)
    document = deposit(coffre, cast.patient.actor.id, b"a lab result", cast.hospital)
    statements: list[str] = []
    real_execute = psycopg.Cursor.execute

    def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(query.as_string(self) if hasattr(query, "as_string") else str(query))
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    assert read(coffre, cast.patient.actor.id, document, cast.patient) == b"a lab result"
    inserts = [s for s in statements if "INSERT" in s.upper()]
    assert len(inserts) == 1 and "vault_events_insert" in inserts[0]
    assert not [s for s in statements if "LOCK TABLE" in s or "NOTIFY" in s]
