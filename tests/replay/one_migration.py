"""One migration applied alone to a scratch database, then rolled back: what the tests
of a migration that adds a table share (``test_migration_*``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from yoyo import get_backend, read_migrations

ROOT = Path(__file__).resolve().parents[2]
#: both databases, PostgreSQL's marked as such
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def one_migration(
    backend: str, migration_id: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A yoyo backend of ``backend`` ("sqlite" or "postgres") with ``migration_id``
    alone applied; the migration is rolled back when the block ends, and the backend
    stays usable to check that its tables are gone."""
    if backend == "sqlite":
        uri = f"sqlite:///{tmp_path / 'migration.sqlite'}"
    else:
        p = request.getfixturevalue("pg_database")
        uri = f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
    database = get_backend(uri)
    migrations = read_migrations(str(ROOT / "migrations" / backend)).filter(
        lambda m: m.id == migration_id
    )
    with database.lock():
        database.apply_migrations(database.to_apply(migrations))
    yield database
    with database.lock():
        database.rollback_migrations(database.to_rollback(migrations))


def assert_gone(database: Any, table: str) -> None:
    """``table`` no longer exists (the rollback removed it)."""
    cursor = database.connection.cursor()
    with pytest.raises(Exception, match=table):
        cursor.execute(f"SELECT 1 FROM {table}")
