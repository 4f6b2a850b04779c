"""Migration 0016 (the access log's authentication method) on a store of an older
version: its events replay without the field, its rows say nothing of it, and a read by
a person logged in at an OpenID provider names the method from then on; the rollback
drops the column and the log reads as before."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from yoyo import get_backend, read_migrations

from api.models import LogEntry
from coffre.bootstrap import build
from domain.values import Actor
from tests.replay.test_keys_store import embedded_copy, postgres_copy
from vault.migrations import backend_uri

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = "0016.access_log_authentication"


@pytest.fixture(
    params=["sqlite-fs", pytest.param("postgres-s3", marks=[pytest.mark.postgres, pytest.mark.s3])]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A copy of the committed store of c5f137c, not yet opened by today's code."""
    if request.param == "sqlite-fs":
        return embedded_copy(tmp_path)
    return postgres_copy(request, tmp_path)


def test_an_older_store_replays_and_new_reads_name_their_method(settings: Any) -> None:
    coffre = build(settings)
    try:
        coffre.runner.catch_up()
        rows = coffre.views.query("SELECT * FROM access_log")
        assert rows, "the older store's history is projected"
        assert {row["actor_authentication"] for row in rows} == {None}
        # the patient's JSON has the field, empty: the token of that day did not say
        entry = LogEntry.from_row({**rows[0], **_entry_defaults(rows[0])})
        assert entry.model_dump()["authentication"] is None
        # an actor stored without a method replays without one; it is not who they are
        stored = {"role": "service", "id": "chu-demoville.dpi", "name": "CHU"}
        actor = Actor.from_dict(stored)
        assert actor.authentication is None
        assert dataclasses.replace(actor, authentication="e-CPS") == actor
        assert "authentication" not in actor.to_dict()
        logged = dataclasses.replace(actor, authentication="card")
        assert Actor.from_dict(logged.to_dict()).authentication == "card"
    finally:
        coffre.close()


def _entry_defaults(row: dict[str, Any]) -> dict[str, Any]:
    # what the log's page query joins in besides the row
    detail = row["detail"]
    return {
        "document_title": None,
        "document_type": None,
        "device_name": None,
        "detail": json.loads(detail) if isinstance(detail, str) else detail,
    }


def test_the_rollback_drops_the_column_and_the_log_reads_as_before(settings: Any) -> None:
    coffre = build(settings)
    coffre.runner.catch_up()
    before = coffre.views.query("SELECT count(*) AS n FROM access_log")[0]["n"]
    coffre.close()
    backend = "sqlite" if settings.database == "sqlite" else "postgres"
    database = get_backend(backend_uri(settings))
    migrations = read_migrations(str(ROOT / "migrations" / backend))
    with database.lock():
        database.rollback_migrations(
            database.to_rollback(migrations.filter(lambda m: m.id == MIGRATION))
        )
    cursor = database.connection.cursor()
    cursor.execute("SELECT count(*) FROM access_log")
    assert cursor.fetchone()[0] == before
    with pytest.raises(Exception, match="actor_authentication"):
        cursor.execute("SELECT actor_authentication FROM access_log")
    database.connection.rollback()
