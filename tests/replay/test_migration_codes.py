"""Migration 0012 names the confidentiality flags of the views after the codes: a store
made by the previous migrations keeps every flag's value, and the rollback restores it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from yoyo import get_backend, read_migrations

ROOT = Path(__file__).resolve().parents[2]
RENAME = "0012.confidentiality_names"
DOCUMENT = "00000000-0000-4000-8000-000000000001"


def _uri(backend: str, tmp_path: Path, pg_database: dict[str, str] | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'views.sqlite'}"
    assert pg_database is not None
    p = pg_database
    return f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"


def _flags(database: Any, names: tuple[str, str], table: str) -> tuple[int, int]:
    cursor = database.connection.cursor()
    cursor.execute(f"SELECT {names[0]}, {names[1]} FROM {table} WHERE document_id = '{DOCUMENT}'")
    return tuple(cursor.fetchone())  # type: ignore[return-value]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_renamed_flags_keep_their_values_both_ways(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("pg_database") if backend == "postgres" else None
    database = get_backend(_uri(backend, tmp_path, pg))
    # The views' migrations only (others need the events tables eventsourcing creates).
    views = {"0002.access_log", "0005.access_rules", "0007.access_views", "0011.access_view_facts"}
    migrations = read_migrations(str(ROOT / "migrations" / backend)).filter(
        lambda m: m.id in views | {RENAME}
    )
    before = migrations.filter(lambda m: m.id != RENAME)
    with database.lock():
        database.apply_migrations(database.to_apply(before))
    with database.transaction():
        database.execute(
            "INSERT INTO access_log_documents (document_id, space_id, title, type, held, secret) "
            f"VALUES ('{DOCUMENT}', '{DOCUMENT}', 'Bilan', 'lab_result', 1, 1)"
        )
        database.execute(
            "INSERT INTO view_documents (document_id, space_id, type, held) "
            f"VALUES ('{DOCUMENT}', '{DOCUMENT}', 'lab_result', 1)"
        )
    with database.lock():
        database.apply_migrations(database.to_apply(migrations))
    codes = ("invisible_to_patient", "invisible_to_representatives")
    assert _flags(database, codes, "access_log_documents") == (1, 1)
    assert _flags(database, ("invisible_to_patient", "masked"), "view_documents")[0] == 1
    with database.lock():
        database.rollback_migrations(
            database.to_rollback(migrations.filter(lambda m: m.id == RENAME))
        )
    assert _flags(database, ("held", "secret"), "access_log_documents") == (1, 1)
