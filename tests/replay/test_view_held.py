"""A runner hung mid-batch holds its view's lock until PostgreSQL sees its connection
die, which may be never (a stopped process keeps its socket open). Every other runner,
a request's catch-up in an API process included, waits for it ``COFFRE_PG_LOCK_TIMEOUT``
seconds at most, then gets a transient error: the other views go on, and the held one
follows as soon as it is let go. On a real PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from coffre.bootstrap import Coffre, build
from projections.store import PostgresViewStore
from tests.replay.test_crash_and_rebuild import record_many_reads
from tests.scenarios.conftest import Cast, backend_settings
from vault.clock import ManualClock
from vault.pg_locks import advisory_key
from vault.settings import Settings
from wire.errors import Unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

HELD = "access_log"


@pytest.fixture
def coffre(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """The scenarios' Coffre on (PostgreSQL, S3), with a one-second view lock bound."""
    settings = backend_settings(request, "postgres-s3", tmp_path / "data")
    built = build(settings.model_copy(update={"pg_lock_timeout": 1}), clock=clock)
    try:
        yield built
    finally:
        built.close()


@contextmanager
def _held_by_a_hung_runner(pg: dict[str, str], view: str) -> Iterator[psycopg.Connection]:
    """A connection in an open transaction holding ``view``'s lock, as a runner stopped
    between its claim and its commit does."""
    conninfo = " ".join(f"{k}={v}" for k, v in pg.items())
    with psycopg.connect(conninfo, application_name="hung-runner") as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(f"coffre.view:{view}"),))
        yield conn
        conn.rollback()


def test_a_view_held_by_a_hung_runner_is_given_up_on_and_the_others_go_on(
    coffre: Coffre, cast: Cast, pg_database: dict[str, str]
) -> None:
    assert isinstance(coffre.views, PostgresViewStore)
    assert coffre.views.lock_timeout == 1
    coffre.runner.catch_up()
    record_many_reads(coffre, cast, 30)
    with _held_by_a_hung_runner(pg_database, HELD):
        began = time.monotonic()
        with pytest.raises(Unavailable, match=f"the {HELD} projection could not be applied"):
            coffre.runner.catch_up()
        took = time.monotonic() - began
        lag = coffre.runner.lag()
    # one wait of the bound, not one per batch or per view
    assert 1 <= took < 5
    assert lag[HELD] > 0
    assert {name: behind for name, behind in lag.items() if name != HELD} == dict.fromkeys(
        set(lag) - {HELD}, 0
    )
    assert coffre.runner.stalls() == {}  # the database's doing, not the event's
    # let go: the held view follows at once
    coffre.runner.catch_up()
    assert coffre.runner.lag() == dict.fromkeys(coffre.runner.projections, 0)


def test_the_bound_is_per_batch_and_a_free_view_is_not_slowed(
    coffre: Coffre, cast: Cast, pg_database: dict[str, str]
) -> None:
    # The bound is set in the batch's own transaction (SET LOCAL): a view lock taken by
    # no one costs no wait, and the session keeps no timeout once the batch is over.
    record_many_reads(coffre, cast, 30)
    began = time.monotonic()
    coffre.runner.catch_up()
    assert time.monotonic() - began < 5
    with coffre.views.transaction() as cursor:
        assert cursor.fetch("SHOW lock_timeout") == [{"lock_timeout": "0"}]


# "\uff15" is "5" in a full-width digit, which int() itself would take
@pytest.mark.parametrize("seconds", ["-1", "3601", "9" * 40, "1.5", "five", "\uff15", "0x5"])
def test_a_lock_timeout_out_of_bounds_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, seconds: str
) -> None:
    monkeypatch.setenv("COFFRE_PG_LOCK_TIMEOUT", seconds)
    with pytest.raises(ValidationError, match="pg_lock_timeout"):
        Settings()


@pytest.mark.parametrize(("given", "seconds"), [("0", 0), ("7\n", 7), (" 3600 ", 3600)])
def test_a_lock_timeout_in_bounds_is_taken_0_meaning_no_bound(
    monkeypatch: pytest.MonkeyPatch, given: str, seconds: int
) -> None:
    # 0 keeps the meaning it has for the events table: PostgreSQL's lock_timeout 0, no
    # bound; a trailing newline (an env file's) is no error
    monkeypatch.setenv("COFFRE_PG_LOCK_TIMEOUT", given)
    assert Settings().pg_lock_timeout == seconds
