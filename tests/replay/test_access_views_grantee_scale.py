"""A professional granted in many spaces costs the access views what one granted in a
few does: a grant or a revoke (migration 0020, which comes and goes) and their list.

Before it, each of the two statements that end a professional's running grants in one
space ANDed the space's index with the grantee's, whose side is every grant of that
professional anywhere: a GP with thousands of patients made each of their grants and
revokes cost more than the last (bench row 6 at 1M events).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from yoyo import get_backend, read_migrations

from coffre.bootstrap import Coffre
from domain.values import Actor, Scope, patient_id_from_number
from projections.access_views import REVOKE_GRANTEE_OTHERS, SUPERSEDE_GRANTS, AccessViews
from projections.runner import wait_for
from tests.replay.one_migration import DATABASES
from tests.scenarios.conftest import Cast, open_space
from vault.clock import ManualClock
from wire.values import Role

ROOT = Path(__file__).resolve().parents[2]
INDEX = "0020.view_grants_by_space_grantee"
#: the views' table it changes, and the migration before it that made the table
BEFORE = {"0007.access_views"}
#: grants of one professional in as many other spaces: a busy GP's list
OTHER_SPACES = 3000
PROFESSIONAL = "810000000001"


def _uri(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'views.sqlite'}"
    p = request.getfixturevalue("pg_database")
    return f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"


def _indexes(database: Any, backend: str) -> set[str]:
    cursor = database.connection.cursor()
    if backend == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'view_grants'")
    return {name for (name,) in cursor.fetchall() if name.startswith("view_grants_by")}


@pytest.mark.parametrize("backend", DATABASES)
def test_the_pair_index_replaces_the_space_index_and_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = get_backend(_uri(backend, tmp_path, request))
    migrations = read_migrations(str(ROOT / "migrations" / backend)).filter(
        lambda m: m.id in BEFORE | {INDEX}
    )
    with database.lock():
        database.apply_migrations(database.to_apply(migrations))
    assert _indexes(database, backend) == {
        "view_grants_by_space_grantee",
        "view_grants_by_grantee",
    }
    with database.lock():
        database.rollback_migrations(
            database.to_rollback(migrations.filter(lambda m: m.id == INDEX))
        )
    assert _indexes(database, backend) == {"view_grants_by_space", "view_grants_by_grantee"}


@pytest.fixture
def busy_gp(pg_database: dict[str, str]) -> Iterator[tuple[psycopg.Connection[Any], Any, Any]]:
    """The views' schema with one professional granted in ``OTHER_SPACES`` spaces and in
    one more, the space under test; yields a connection, that space and that grant."""
    p = pg_database
    database = get_backend(
        f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
    )
    migrations = read_migrations(str(ROOT / "migrations" / "postgres")).filter(
        lambda m: m.id in BEFORE | {INDEX}
    )
    with database.lock():
        database.apply_migrations(database.to_apply(migrations))
    space, grant = uuid4(), uuid4()
    with psycopg.connect(**p) as conn:
        conn.execute(
            "INSERT INTO view_grants (grant_id, space_id, grantee_id, scope_kind, scope_types, "
            "scope_documents, granted_at) SELECT gen_random_uuid(), gen_random_uuid(), %s, "
            "'space', '[]', '[]', now() FROM generate_series(1, %s)",
            (PROFESSIONAL, OTHER_SPACES),
        )
        for grantee, grant_id in ((PROFESSIONAL, grant), ("810000000002", uuid4())):
            conn.execute(
                "INSERT INTO view_grants (grant_id, space_id, grantee_id, scope_kind, "
                "scope_types, scope_documents, granted_at) "
                "VALUES (%s, %s, %s, 'space', '[]', '[]', now())",
                (grant_id, space, grantee),
            )
        conn.commit()
        yield conn, space, grant


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.postgres
@pytest.mark.parametrize("analysed", [False, True], ids=["no-statistics", "analysed"])
@pytest.mark.parametrize("mode", ["auto", "force_generic_plan"])
@pytest.mark.parametrize(
    "statement", [SUPERSEDE_GRANTS, REVOKE_GRANTEE_OTHERS], ids=["grant", "revoke"]
)
def test_ending_a_busy_professionals_grants_in_one_space_reads_only_that_space(
    busy_gp: tuple[psycopg.Connection[Any], Any, Any], statement: str, mode: str, analysed: bool
) -> None:
    # A catch-up replays into tables never analysed, through prepared statements: both
    # states of the statistics, custom and generic plans.
    conn, space, grant = busy_gp
    if analysed:
        conn.execute("ANALYZE view_grants")
    conn.execute(f"SET plan_cache_mode = {mode}")
    params = {"at": datetime.now(UTC), "s": space, "p": PROFESSIONAL, "g": grant}
    for _ in range(7):  # past psycopg's threshold and PostgreSQL's five custom plans
        (row,) = conn.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params, prepare=True
        ).fetchall()
        conn.rollback()
    nodes = list(_nodes(row[0][0]["Plan"]))
    # the busy professional's other grants are never walked: no node meets more rows
    # than the space holds, none reads the grantee's index or the whole table
    assert max(node["Actual Rows"] for node in nodes) <= 2, nodes
    assert all(node.get("Index Name") != "view_grants_by_grantee" for node in nodes), nodes
    assert all(node["Node Type"] != "Seq Scan" for node in nodes), nodes


def test_a_professionals_list_takes_the_same_queries_for_twelve_patients_as_for_two(
    coffre: Coffre, cast: Cast, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, each space of the list cost five queries and every row of its documents:
    # 1.8 s for a GP granted by 2,000 patients of 20 documents each.
    doctor, hospital = cast.doctor.actor, cast.hospital
    patients: list[Actor] = []
    grants: dict[str, UUID] = {}

    def granted_by(count: int) -> None:
        while len(patients) < count:
            n = len(patients)
            patient = Actor(Role.PATIENT, patient_id_from_number(f"2900175{n:06d}"), f"P{n}")
            open_space(coffre, clock, patient.id, hospital)
            grants[patient.id] = coffre.vault.grant(
                patient.id, doctor, Scope.whole_space(), None, patient
            )
            patients.append(patient)

    queries: list[str] = []
    query = coffre.views.query

    def counted(sql: str, params: Any = None) -> Any:
        queries.append(sql)
        return query(sql, params)

    def listed() -> tuple[list[str], int]:
        wait_for(coffre.runner)
        queries.clear()
        monkeypatch.setattr(coffre.views, "query", counted)
        try:
            rows = AccessViews(coffre.views).for_professional(doctor.id, clock.now())
        finally:
            monkeypatch.setattr(coffre.views, "query", query)
        return [row["patient_id"] for row in rows], len(queries)

    granted_by(2)
    few, cost = listed()
    assert few == sorted(p.id for p in patients)
    granted_by(12)
    # the domain still decides each space: one that blocked the doctor, one whose grant
    # was revoked, one closed are not listed, however many others are
    blocked, revoked, closed = patients[3], patients[5], patients[8]
    coffre.vault.block(blocked.id, doctor, blocked)
    coffre.vault.revoke(revoked.id, grants[revoked.id], revoked)
    coffre.vault.close_space(closed.id, closed)
    many, cost_many = listed()
    assert many == sorted(p.id for p in patients if p not in (blocked, revoked, closed))
    assert cost_many == cost
