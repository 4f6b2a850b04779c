"""``coffre migrate`` on a new database makes everything, then says it is up to date.

On PostgreSQL the SQL migrations alone failed on a new database (migration 0004 alters
the event store's table, which eventsourcing creates when the vault first opens):
``UndefinedTable: relation "vault_events" does not exist``, with a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keys.master import MasterKeys
from tests.scenarios.conftest import BACKENDS
from tests.served import coffre_run, server_env


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
