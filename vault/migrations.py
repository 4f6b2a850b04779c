"""Applies the SQL files of ``migrations/<dialect>/`` with yoyo-migrations.

The events tables themselves belong to ``eventsourcing`` (created when the vault first
starts); everything else — key store, projection views, the trail — is created here,
in order, once, and recorded in yoyo's own bookkeeping tables.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import structlog
from yoyo import get_backend, read_migrations

from vault.pg_locks import advisory_key
from vault.settings import Settings
from wire.errors import Unavailable

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

log = structlog.get_logger(__name__)


def backend_uri(settings: Settings) -> str:
    """The yoyo URI of the configured database."""
    if settings.database == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.sqlite_path.resolve()}"
    password = f":{quote(settings.pg_password.get_secret_value())}" if settings.pg_password else ""
    # hosts and ports as query arguments, which yoyo hands to libpq as they are: the
    # comma-separated lists of a replicated cluster do not fit in the URI's netloc
    return (
        f"postgresql+psycopg://{quote(settings.pg_user)}{password}@/{quote(settings.pg_dbname)}"
        f"?host={quote(settings.pg_host)}&port={quote(settings.pg_port)}"
        f"&target_session_attrs={settings.pg_target_session_attrs}"
        f"&connect_timeout={settings.pg_connect_timeout}"
    )


def migrate(settings: Settings) -> list[str]:
    """Apply every pending migration; returns the ids applied (empty when up to date)."""
    backend = get_backend(backend_uri(settings))
    migrations = read_migrations(str(MIGRATIONS / settings.database))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


#: the advisory lock ``schema_lock`` holds
SCHEMA_LOCK = advisory_key("coffre.schema")
#: seconds between two reports of a process waiting for it
SCHEMA_LOCK_REPORT = 10.0


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Held while this process creates what may not exist yet: the event store's tables
    (eventsourcing's ``CREATE TABLE IF NOT EXISTS``), the key store's, yoyo's own and
    the views' tracking table, then the migrations.

    ``IF NOT EXISTS`` is not safe against another process doing the same at the same
    instant: PostgreSQL's catalog refuses the second (a duplicate key in ``pg_type``, or
    "tuple concurrently updated"). A fleet started at once on a new database (the API's
    workers, ``coffre projections run``) lost one process in two to a traceback. The
    lock is the server's, so it is released if this process dies; SQLite serves one
    process per data directory and needs none.
    """
    if settings.database != "postgres":
        yield
        return
    with psycopg.connect(settings.pg_conninfo(), autocommit=True) as conn:
        _take(conn, settings.pg_schema_lock_timeout)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def _take(conn: psycopg.Connection[Any], timeout: float) -> None:
    # A holder that hangs (a migration waiting on a long transaction's table lock, a
    # process stopped in a debugger) would keep every other process of the fleet
    # waiting in silence. So wait in steps, say who holds it at each, and give up with
    # a typed error once ``timeout`` passed; a process supervisor restarts the process.
    start = time.monotonic()
    while True:
        waited = time.monotonic() - start
        step = max(0.001, min(SCHEMA_LOCK_REPORT, timeout - waited))
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(step * 1000)}ms",))
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        except psycopg.errors.LockNotAvailable:
            waited = time.monotonic() - start
            holder = _holder(conn)
            if waited >= timeout:
                raise Unavailable(
                    f"the schema lock is still held by another process ({holder}) after "
                    f"{waited:.0f} s (COFFRE_PG_SCHEMA_LOCK_TIMEOUT): it is creating tables "
                    "or migrating, or it hangs"
                ) from None
            log.warning("schema_lock_waiting", waited_s=round(waited), holder=holder)
            continue
        conn.execute("RESET lock_timeout")
        return


def _holder(conn: psycopg.Connection[Any]) -> str:
    """Who holds the schema lock, as far as the server says: pid and application."""
    # a bigint advisory key is stored as two oids: its high and low 32 bits
    high, low = (SCHEMA_LOCK >> 32) & 0xFFFFFFFF, SCHEMA_LOCK & 0xFFFFFFFF
    row = conn.execute(
        "SELECT l.pid, a.application_name FROM pg_locks l "
        "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid "
        # advisory locks are the database's: another database's holder is not ours
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (high, low),
    ).fetchone()
    if row is None:
        return "gone since"
    pid, application = row
    return f"pid {pid}" + (f", {application}" if application else "")
