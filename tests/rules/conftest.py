"""Fixtures of the rules tests.

Row tests reuse the scenario fixtures (both backends, the cast). The state machine
needs ONE Coffre for the whole session on PostgreSQL (+ S3), with a clock it can set
back for every example (each example is a new patient, so time may start over).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coffre.bootstrap import Coffre, build
from domain.representatives import LegalBasis
from domain.values import Actor
from keys.master import MasterKeys
from tests.devices import ENROLMENT
from tests.scenarios.conftest import BACKENDS, backend_settings, cast  # noqa: F401
from tests.served import scratch_bucket, scratch_database
from vault.clock import ManualClock
from vault.settings import Settings
from wire.values import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

#: RULES.md's durations, pinned: the environment (``COFFRE_*``) must not change them here
LAW = {
    "opposition_period": timedelta(weeks=6),
    "archive_years": 10,
    "express_deletion_delay": timedelta(0),
    "emergency_access_duration": timedelta(hours=24),
}


#: the registry service the rules tests authorise (``COFFRE_REGISTRY_SERVICES``): the
#: only one that may appoint and end legal representatives
REGISTRY = Actor(Role.SERVICE, "etat-civil.lyon", "État civil de Lyon")
AUTHORISED = {"registry_services": REGISTRY.id, "enrolment_services": ENROLMENT.id}


def appoint(
    coffre: Coffre,
    patient_id: str,
    representative: Actor,
    kind: str,
    until: datetime | None = None,
    *,
    by: Actor = REGISTRY,
) -> None:
    """Appoint a representative as the registry does, on an act dated today."""
    basis = LegalBasis(f"{kind}-act-{representative.id}", coffre.vault.clock.now().date())
    coffre.vault.add_representative(patient_id, representative, kind, by, until, basis=basis)


@pytest.fixture
def clock() -> ManualClock:
    """The rules tests' clock, starting at ``T0``."""
    return ManualClock(T0)


@pytest.fixture(params=BACKENDS)
def coffre(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Coffre]:
    """The scenarios' Coffre on both backends, with RULES.md's durations pinned."""
    settings = backend_settings(request, request.param, tmp_path / "data")
    built = build(settings.model_copy(update={**LAW, **AUTHORISED}), clock=clock)
    try:
        yield built
    finally:
        built.close()


class SetClock:
    """A clock the state machine sets, back to the start for every example."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        """The instant the machine last set."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (forwards or, between examples, backwards)."""
        self._now = moment


@pytest.fixture(scope="session")
def session_pg(pg_server: str) -> Iterator[dict[str, str]]:
    """One PostgreSQL database for the whole session (dropped at the end)."""
    with scratch_database(pg_server, "coffre_rules") as params:
        yield params


@pytest.fixture(scope="session")
def session_bucket(s3_server: dict[str, str]) -> Iterator[str]:
    """One S3 bucket for the whole session (emptied and removed at the end)."""
    with scratch_bucket(s3_server, "coffre-rules") as name:
        yield name


@pytest.fixture(scope="session")
def machine_coffre(
    session_pg: dict[str, str],
    s3_server: dict[str, str],
    session_bucket: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Coffre, SetClock]]:
    """ONE Coffre on PostgreSQL + S3 for every example of the state machine."""
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("rules")) / "data",
        database="postgres",
        env="development",
        pg_host=session_pg["host"],
        pg_port=int(session_pg["port"]),
        pg_user=session_pg["user"],
        pg_dbname=session_pg["dbname"],
        blob_store="s3",
        s3_endpoint=s3_server["endpoint"],
        s3_access_key=s3_server["access_key"],
        s3_secret_key=s3_server["secret_key"],
        s3_bucket=session_bucket,
        master_keys=MasterKeys.generate().current.to_line(),
        **LAW,  # type: ignore[arg-type]
        **AUTHORISED,
    )
    machine_clock = SetClock(T0)
    built = build(settings, clock=machine_clock)
    try:
        yield built, machine_clock
    finally:
        built.close()
