"""keys.pg_alive on a real PostgreSQL: a pooled connection lent again soon is not
pinged, and one whose server side ended is found dead and replaced all the same."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

import keys.pg_alive as pg_alive
from keys.pg_alive import check_alive, install
from tests.pg_sessions import end_every_other_connection

pytestmark = pytest.mark.postgres


@pytest.fixture
def conninfo(pg_database: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in pg_database.items())


@pytest.fixture
def pool(conninfo: str) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(
        conninfo, min_size=1, max_size=1, check=check_alive, open=True, name="alive-test"
    ) as pool:
        yield pool


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the full checks (the ping) the pools make."""
    seen: list[int] = []
    real = ConnectionPool.check_connection

    def counting(conn: psycopg.Connection[Any]) -> None:
        seen.append(conn.info.backend_pid)
        real(conn)

    monkeypatch.setattr(pg_alive.ConnectionPool, "check_connection", staticmethod(counting))
    return seen


def _backend_pid(pool: ConnectionPool[Any]) -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        return int(row[0])


def test_a_connection_lent_again_soon_is_not_pinged(
    pool: ConnectionPool[Any], pings: list[int]
) -> None:
    first = _backend_pid(pool)  # first loan: never seen, pinged
    assert pings == [first]
    for _ in range(5):
        assert _backend_pid(pool) == first
    assert pings == [first]


def test_a_connection_idle_past_the_window_is_pinged(
    pool: ConnectionPool[Any], pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _backend_pid(pool)
    monkeypatch.setattr(pg_alive, "FRESH_SECONDS", 0.0)
    assert _backend_pid(pool) == pid
    assert pings == [pid, pid]


def test_a_terminated_backend_is_replaced_within_the_window(
    pool: ConnectionPool[Any], pings: list[int], conninfo: str
) -> None:
    """What a failover does to every pooled connection, seen at once: the next loan,
    well inside FRESH_SECONDS, still gets a working connection."""
    dead = _backend_pid(pool)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        assert end_every_other_connection(admin, str(admin.info.dbname)) == 1
    # the FATAL notice or the EOF makes the socket readable: the ping runs and fails,
    # the pool drops the connection and lends a new one
    alive = _backend_pid(pool)
    assert alive != dead
    assert pings[:2] == [dead, dead]


def test_a_connection_left_in_a_transaction_is_pinged(
    pool: ConnectionPool[Any], pings: list[int]
) -> None:
    with pool.connection() as conn:
        pid = conn.info.backend_pid
    # the pool rolls back what a borrower left open; a connection it could not reset
    # would not be idle, and only an idle one skips the ping
    conn = pool.getconn()
    try:
        conn.execute("SELECT 1")  # opens a transaction (not autocommit)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert not pg_alive._surely_alive(conn, pg_alive.time.monotonic())
    finally:
        pool.putconn(conn)
    assert _backend_pid(pool) == pid


def test_install_replaces_only_an_existing_check(conninfo: str) -> None:
    with (
        ConnectionPool(conninfo, min_size=1, check=ConnectionPool.check_connection) as checked,
        ConnectionPool(conninfo, min_size=1) as unchecked,
    ):
        install(checked)
        install(unchecked)
        assert checked._check is check_alive
        assert unchecked._check is None


def test_when_every_connection_is_ended_the_next_loan_gets_a_fresh_one(conninfo: str) -> None:
    """A failover ends every pooled connection: one found dead drains the others, so the
    pool does not try them one by one with a growing backoff (1 + 2 + 4 s > timeout)."""
    with ConnectionPool(
        conninfo, min_size=4, max_size=4, check=check_alive, timeout=5.0, name="alive-drain"
    ) as pool:
        pool.wait()
        with psycopg.connect(conninfo, autocommit=True) as admin:
            assert end_every_other_connection(admin, str(admin.info.dbname)) == 4
        _backend_pid(pool)  # would raise PoolTimeout after trying the dead ones in turn
