"""Fixtures for the ``keys`` tests: migrated SQLite and PostgreSQL key stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keys.keystore_postgres import PostgresKeyStore
from keys.keystore_sqlite import SQLiteKeyStore

ROOT = Path(__file__).resolve().parents[2]

KEYSTORE_MIGRATION = "0001.keystore"


def apply_keystore_migration(uri: str, dialect: str) -> None:
    """Apply ``migrations/<dialect>/0001.keystore.sql`` with yoyo, as `coffre migrate` would."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(uri)
    migrations = read_migrations(str(ROOT / "migrations" / dialect))
    # only ours: the keys tests must not depend on other packages' migrations
    ours = migrations.filter(lambda m: m.id == KEYSTORE_MIGRATION)
    assert len(ours) == 1
    with backend.lock():
        backend.apply_migrations(backend.to_apply(ours))
    backend.connection.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    """A SQLite database file with the key store table."""
    path = str(tmp_path / "keys.db")
    apply_keystore_migration(f"sqlite:///{path}", "sqlite")
    return path


@pytest.fixture
def pg_conninfo(pg_database: dict[str, str]) -> str:
    """Conninfo of a fresh PostgreSQL database with the key store table."""
    p = pg_database
    apply_keystore_migration(
        f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}", "postgres"
    )
    return " ".join(f"{k}={v}" for k, v in p.items())


@pytest.fixture
def sqlite_store(sqlite_path: str) -> Iterator[SQLiteKeyStore]:
    store = SQLiteKeyStore(sqlite_path)
    yield store
    store.close()


@pytest.fixture
def pg_store(pg_conninfo: str) -> Iterator[PostgresKeyStore]:
    store = PostgresKeyStore(pg_conninfo)
    yield store
    store.close()
