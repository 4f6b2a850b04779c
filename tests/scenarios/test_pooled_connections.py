"""Pooled connections on PostgreSQL: every pool of a built Coffre pings a connection only
when it may be dead (keys.pg_alive), and when the server ends every connection at once,
as a failover does, the very next read and access-log page still succeed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from coffre.bootstrap import Coffre, build
from domain.values import Scope
from keys.pg_alive import check_alive
from projections.store import PostgresViewStore
from tests.pg_sessions import end_every_other_connection
from tests.scenarios.conftest import Cast, backend_settings, deposit, read
from vault.clock import ManualClock

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


@pytest.fixture
def coffre(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """The scenarios' Coffre on (PostgreSQL, S3) only."""
    built = build(backend_settings(request, "postgres-s3", tmp_path / "data"), clock=clock)
    try:
        yield built
    finally:
        built.close()


def test_every_pool_checks_with_check_alive(coffre: Coffre) -> None:
    assert coffre.vault.recorder.datastore.pool._check is check_alive  # type: ignore[attr-defined]
    assert isinstance(coffre.views, PostgresViewStore)
    assert coffre.views._recorder.datastore.pool._check is check_alive
    assert coffre.keyring._store._pool._check is check_alive  # type: ignore[attr-defined]


def test_reads_go_on_when_the_server_ends_every_connection(
    coffre: Coffre, cast: Cast, pg_database: dict[str, str]
) -> None:
    patient = cast.patient.actor
    document = deposit(coffre, patient.id, b"compte rendu", cast.hospital)
    coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    assert read(coffre, patient.id, document, cast.doctor) == b"compte rendu"
    coffre.runner.catch_up()
    space_id = coffre.vault.authorise_log(patient.id, patient)
    before = len(coffre.access_log.page(space_id, limit=1000).entries)

    conninfo = " ".join(f"{k}={v}" for k, v in pg_database.items())
    with psycopg.connect(conninfo, autocommit=True) as admin:
        ended = end_every_other_connection(admin, pg_database["dbname"])
    assert ended >= 3  # the event store's, the views', the keys'

    # at once, inside keys.pg_alive.FRESH_SECONDS: no pool lends a dead connection
    assert read(coffre, patient.id, document, cast.doctor) == b"compte rendu"
    coffre.runner.catch_up()
    assert len(coffre.access_log.page(space_id, limit=1000).entries) == before + 1


def test_view_queries_return_uuids_as_text_on_every_connection(
    coffre: Coffre, pg_database: dict[str, str]
) -> None:
    """The views' pool loads uuid columns as their text (projections.store), in a lone
    query and in a transaction alike, and so do the connections it opens after the
    server ended the first ones."""
    sql = "SELECT %(u)s::uuid AS u, ARRAY[%(u)s::uuid] AS us, now() AS at"
    value = "0b9f4e1c-6a8e-4c47-9e1b-3f2d1c0a9b8e"

    def both() -> list[dict[str, object]]:
        with coffre.views.transaction() as cursor:
            inside = cursor.fetch(sql, {"u": value})
        return [*coffre.views.query(sql, {"u": value}), *inside]

    conninfo = " ".join(f"{k}={v}" for k, v in pg_database.items())
    for _ in range(2):
        for row in both():
            assert row["u"] == value and type(row["u"]) is str
            assert row["us"] == [value]
            assert row["at"].tzinfo is not None and row["at"].utcoffset().total_seconds() == 0
        with psycopg.connect(conninfo, autocommit=True) as admin:
            end_every_other_connection(admin, pg_database["dbname"])
