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
