"""The events table refuses UPDATE and DELETE at the database level, on both backends."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from coffre.bootstrap import Coffre
from tests.scenarios.conftest import Cast


def test_stored_events_cannot_be_rewritten(coffre: Coffre, cast: Cast) -> None:
    settings = coffre.settings
    if settings.database == "sqlite":
        with sqlite3.connect(settings.sqlite_path) as conn:
            for statement in (
                "UPDATE stored_events SET state = x'00'",
                "DELETE FROM stored_events",
            ):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(statement)
        return
    with psycopg.connect(settings.pg_conninfo(), autocommit=True) as conn:
        for statement in (
            "UPDATE vault_events SET state = '\\x00'",
            "DELETE FROM vault_events",
            "TRUNCATE vault_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
    assert coffre.vault.recorder.max_notification_id()
