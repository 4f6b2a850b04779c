"""Migration 0017 adds the web sessions' table, and its rollback removes it, on both
databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from yoyo import get_backend, read_migrations

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = "0017.web_sessions"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_web_sessions_table_comes_and_goes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        uri = f"sqlite:///{tmp_path / 'sessions.sqlite'}"
    else:
        p = request.getfixturevalue("pg_database")
        uri = f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
    database = get_backend(uri)
    migrations = read_migrations(str(ROOT / "migrations" / backend)).filter(
        lambda m: m.id == SESSIONS
    )
    with database.lock():
        database.apply_migrations(database.to_apply(migrations))
    with database.transaction():
        database.execute(
            "INSERT INTO web_sessions (handle, person, issuer, sealed_tokens, created_at, "
            "seen_at) VALUES ('h', 'patient:x', 'https://idp', :sealed, 1.5, 2.5)",
            {"sealed": b"\x00sealed"},
        )
    cursor = database.connection.cursor()
    cursor.execute("SELECT person, sealed_tokens, seen_at FROM web_sessions")
    person, sealed, seen = cursor.fetchone()
    assert (person, bytes(sealed), seen) == ("patient:x", b"\x00sealed", 2.5)
    with database.lock():
        database.rollback_migrations(database.to_rollback(migrations))
    cursor = database.connection.cursor()
    with pytest.raises(Exception, match="web_sessions"):
        cursor.execute("SELECT 1 FROM web_sessions")
