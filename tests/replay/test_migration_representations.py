"""Migration 0018 adds the representations' view (``projections.representations``), and
its rollback removes it, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replay.one_migration import DATABASES, assert_gone, one_migration

REPRESENTATIONS = "0018.representations"


@pytest.mark.parametrize("backend", DATABASES)
def test_the_representations_table_comes_and_goes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with one_migration(backend, REPRESENTATIONS, tmp_path, request) as database:
        with database.transaction():
            database.execute(
                "INSERT INTO view_representations (space_id, representative_id, kind, since) "
                "VALUES ('3d4ec5c7-f278-5250-9d4a-3435586047cb', 'r1', 'parent', "
                "'2026-11-02T09:00:00+00:00')"
            )
        cursor = database.connection.cursor()
        cursor.execute("SELECT representative_id, kind, until FROM view_representations")
        assert cursor.fetchone() == ("r1", "parent", None)
    assert_gone(database, "view_representations")
