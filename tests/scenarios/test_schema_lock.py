"""A process that holds the schema lock and hangs does not keep the fleet waiting in
silence (``vault.migrations.schema_lock``): the others say who holds it every
``SCHEMA_LOCK_REPORT`` seconds, take it as soon as it is let go, and give up with a
typed error once ``COFFRE_PG_SCHEMA_LOCK_TIMEOUT`` passed. On a real PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from keys.master import MasterKeys
from vault import migrations
from vault.migrations import SCHEMA_LOCK, schema_lock
from vault.settings import Settings
from wire.errors import Unavailable

pytestmark = pytest.mark.postgres


def _settings(tmp_path: Path, pg: dict[str, str], timeout: int) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database="postgres",
        env="development",
        pg_host=pg["host"],
        pg_port=pg["port"],
        pg_user=pg["user"],
        pg_dbname=pg["dbname"],
        pg_schema_lock_timeout=timeout,
        master_keys=MasterKeys.generate().current.to_line(),
    )


@contextmanager
def _held_by_a_hung_process(
    pg: dict[str, str], name: str = "hung-migration"
) -> Iterator[psycopg.Connection]:
    conninfo = " ".join(f"{k}={v}" for k, v in pg.items())
    with psycopg.connect(conninfo, autocommit=True, application_name=name) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        yield conn


def test_a_hung_holder_is_reported_then_given_up_on(
    tmp_path: Path, pg_database: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "SCHEMA_LOCK_REPORT", 0.2)
    settings = _settings(tmp_path, pg_database, timeout=1)
    with _held_by_a_hung_process(pg_database) as holder, capture_logs() as logs:
        holder_pid = holder.info.backend_pid
        began = time.monotonic()
        with pytest.raises(Unavailable) as refused, schema_lock(settings):
            pytest.fail("the lock was taken while another process held it")
        took = time.monotonic() - began
    assert 1 <= took < 5
    message = str(refused.value)
    assert f"pid {holder_pid}, hung-migration" in message
    assert "COFFRE_PG_SCHEMA_LOCK_TIMEOUT" in message
    waiting = [e for e in logs if e["event"] == "schema_lock_waiting"]
    assert len(waiting) >= 3
    assert {e["holder"] for e in waiting} == {f"pid {holder_pid}, hung-migration"}


def test_the_lock_is_taken_as_soon_as_its_holder_lets_go(
    tmp_path: Path, pg_database: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "SCHEMA_LOCK_REPORT", 0.2)
    settings = _settings(tmp_path, pg_database, timeout=30)
    with _held_by_a_hung_process(pg_database) as holder:
        letting_go = threading.Timer(
            0.7, lambda: holder.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
        )
        letting_go.start()
        began = time.monotonic()
        with schema_lock(settings):
            took = time.monotonic() - began
            # held here now: nobody else may take it
            with pytest.raises(psycopg.errors.LockNotAvailable):
                holder.execute("SET lock_timeout = '50ms'")
                holder.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        letting_go.join()
    assert 0.5 <= took < 5
    # and it was let go at the block's end
    with _held_by_a_hung_process(pg_database):
        pass


@pytest.mark.parametrize("timeout", ["0", "-1", "86401", "9" * 40, "1.5", "ten"])
def test_a_timeout_out_of_bounds_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, timeout: str
) -> None:
    monkeypatch.setenv("COFFRE_PG_SCHEMA_LOCK_TIMEOUT", timeout)
    with pytest.raises(ValidationError, match="pg_schema_lock_timeout"):
        Settings()


def test_the_timeout_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().pg_schema_lock_timeout == 600
    monkeypatch.setenv("COFFRE_PG_SCHEMA_LOCK_TIMEOUT", "60")
    assert Settings().pg_schema_lock_timeout == 60


def test_a_holder_in_another_database_is_neither_waited_for_nor_named(
    tmp_path: Path, pg_database: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Advisory locks are each database's own: the same key held by a fleet on another
    # database of the server (another test, another deployment) is not ours.
    monkeypatch.setattr(migrations, "SCHEMA_LOCK_REPORT", 0.2)
    settings = _settings(tmp_path, pg_database, timeout=1)
    elsewhere = {**pg_database, "dbname": "postgres"}
    with _held_by_a_hung_process(elsewhere, "another-fleet"):
        began = time.monotonic()
        with schema_lock(settings):
            assert time.monotonic() - began < 1
        with _held_by_a_hung_process(pg_database) as holder:
            ours = holder.info.backend_pid
            with pytest.raises(Unavailable) as refused, schema_lock(settings):
                pytest.fail("the lock was taken while another process held it")
    assert f"(pid {ours}, hung-migration)" in str(refused.value)
    assert "another-fleet" not in str(refused.value)
