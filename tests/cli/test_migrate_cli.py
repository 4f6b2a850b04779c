"""``coffre migrate`` on a new database makes everything, then says it is up to date.

On PostgreSQL the SQL migrations alone failed on a new database (migration 0004 alters
the event store's table, which eventsourcing creates when the vault first opens):
``UndefinedTable: relation "vault_events" does not exist``, with a traceback.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from keys.master import MasterKeys
from tests.scenarios.conftest import BACKENDS
from tests.served import coffre_run, server_env
from vault.migrations import SCHEMA_LOCK


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrate_on_a_new_database_applies_every_migration_then_none(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    keys = MasterKeys.generate().current.to_line()
    env = server_env(request, backend, tmp_path / "data", keys)
    first = coffre_run(env, "migrate", timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    applied = first.stdout.split()
    dialect = "sqlite" if backend == "sqlite-fs" else "postgres"
    on_disk = sorted(
        path.stem
        for path in (Path(__file__).resolve().parents[2] / "migrations" / dialect).glob("*.sql")
        if not path.stem.endswith(".rollback")
    )
    assert sorted(applied) == on_disk
    again = coffre_run(env, "migrate", timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.strip() == "up to date"


@pytest.mark.postgres
@pytest.mark.s3
def test_migrate_behind_a_hung_holder_exits_with_its_name(
    tmp_path: Path, request: pytest.FixtureRequest, pg_database: dict[str, str]
) -> None:
    keys = MasterKeys.generate().current.to_line()
    env = server_env(request, "postgres-s3", tmp_path / "data", keys)
    env["COFFRE_PG_SCHEMA_LOCK_TIMEOUT"] = "2"
    conninfo = " ".join(f"{k}={v}" for k, v in pg_database.items())
    with psycopg.connect(conninfo, autocommit=True, application_name="hung-migration") as held:
        held.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        holder = held.info.backend_pid
        refused = coffre_run(env, "migrate", timeout=60)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stdout + refused.stderr
    assert f"pid {holder}, hung-migration" in refused.stderr
    assert "COFFRE_PG_SCHEMA_LOCK_TIMEOUT" in refused.stderr
    # once it is let go, the same command goes through
    done = coffre_run(env, "migrate", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
