"""Migration 0018 adds the representations' view (``projections.representations``), and
its rollback removes it, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from yoyo import get_backend, read_migrations

ROOT = Path(__file__).resolve().parents[2]
REPRESENTATIONS = "0018.representations"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_representations_table_comes_and_goes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        uri = f"sqlite:///{tmp_path / 'representations.sqlite'}"
    else:
        p = request.getfixturevalue("pg_database")
        uri = f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
    database = get_backend(uri)
    migrations = read_migrations(str(ROOT / "migrations" / backend)).filter(
        lambda m: m.id == REPRESENTATIONS
    )
    with database.lock():
        database.apply_migrations(database.to_apply(migrations))
    with database.transaction():
        database.execute(
            "INSERT INTO view_representations (space_id, representative_id, kind, since) "
            "VALUES ('3d4ec5c7-f278-5250-9d4a-3435586047cb', 'r1', 'parent', "
            "'2026-11-02T09:00:00+00:00')"
        )
    cursor = database.connection.cursor()
    cursor.execute("SELECT representative_id, kind, until FROM view_representations")
    assert cursor.fetchone() == ("r1", "parent", None)
    with database.lock():
        database.rollback_migrations(database.to_rollback(migrations))
    cursor = database.connection.cursor()
    with pytest.raises(Exception, match="view_representations"):
        cursor.execute("SELECT 1 FROM view_representations")
