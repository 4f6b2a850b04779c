"""Lending a pooled PostgreSQL connection without a round trip when it is surely alive.

Every pool of the server (the event store's, the views', the key store's) checks a
connection before lending it, so that after a failover the dead primary's connections
are replaced rather than handed to a request. The check was a ping on every loan: an
empty query in autocommit, one round trip and ~60 µs of Python. A recorded read borrows
from three pools, and a page of the access log pays it beside a sub-millisecond query
(bench rows 4 and 8).

A ping is skipped only when it could not have told anything: the connection is idle
and healthy as far as libpq knows, it was lent less than ``FRESH_SECONDS`` ago (and
came back in a working state, or the pool would have dropped it), and its socket has
nothing to read. A server that ends a connection (a crash, a kill of the postmaster or
of the node's processes, a switchover's demotion, ``pg_terminate_backend``) closes the
socket or sends a FATAL notice first; either makes the socket readable, and the ping
then runs and fails as before. Only a peer that vanished without a word (a partitioned
host) goes unnoticed for up to ``FRESH_SECONDS``, and a ping would hang on that one
until TCP gave up anyway.

This lives in ``keys`` because it is the lowest server layer that speaks PostgreSQL;
``vault`` and ``projections`` install it on their pools too.
"""

from __future__ import annotations

import select
import time
import weakref
from typing import Any

import psycopg
from psycopg.pq import ConnStatus, TransactionStatus
from psycopg_pool import ConnectionPool

__all__ = ["FRESH_SECONDS", "check_alive", "install"]

#: how recently a connection must have been lent for its ping to be skipped
FRESH_SECONDS = 1.0

# when each connection was last lent (weak: the pool closes and drops connections)
_lent_at: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = weakref.WeakKeyDictionary()


def check_alive(conn: psycopg.Connection[Any]) -> None:
    """The pools' ``check``: return if ``conn`` may be lent, raise if it is dead.

    Pings (``ConnectionPool.check_connection``) unless the connection was lent within
    ``FRESH_SECONDS``, is idle and healthy, and has nothing unread on its socket.
    """
    now = time.monotonic()
    if not _surely_alive(conn, now):
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            _drain_lender(conn)
            raise
    _lent_at[conn] = now


def _drain_lender(conn: psycopg.Connection[Any]) -> None:
    """Replace every idle connection of the pool lending ``conn``, which proved dead.

    What ends one pooled connection (a failover, a restart) ends them all, and
    psycopg_pool waits with a growing backoff (1 s, 2 s, 4 s...) before trying the next
    one: a pool of five dead connections outlasted a request's 10 s. Drained, the
    retry after the first wait gets a fresh connection.
    """
    pool = getattr(conn, "_pool", None)  # set by the pool while the connection is lent
    if isinstance(pool, ConnectionPool):
        pool.drain()


def _surely_alive(conn: psycopg.Connection[Any], now: float) -> bool:
    last = _lent_at.get(conn)
    if last is None or now - last >= FRESH_SECONDS:
        return False
    pgconn = conn.pgconn
    if pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return False
    # Anything to read on an idle connection is news (an EOF, a FATAL, a notice):
    # let the ping find out what it is.
    return not readable


def install(pool: ConnectionPool[Any]) -> None:
    """Make ``check_alive`` the check of a pool built elsewhere (eventsourcing's).

    psycopg_pool takes its check only as a constructor argument; eventsourcing builds
    its pools itself with ``check_connection`` when ``pre_ping`` is on. Only a pool that
    already checks is changed: one built without a check stays without.
    """
    if getattr(pool, "_check", None) is None:
        return
    pool._check = check_alive  # no public setter (psycopg_pool 3.3, pinned)
