"""Migration 0017 adds the web sessions' table, and its rollback removes it, on both
databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replay.one_migration import DATABASES, assert_gone, one_migration

SESSIONS = "0017.web_sessions"


@pytest.mark.parametrize("backend", DATABASES)
def test_the_web_sessions_table_comes_and_goes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with one_migration(backend, SESSIONS, tmp_path, request) as database:
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
    assert_gone(database, "web_sessions")
