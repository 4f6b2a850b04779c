"""Migration 0019 adds the export jobs' table (one active job per owner), and its
rollback removes it, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replay.one_migration import DATABASES, assert_gone, one_migration

JOBS = "0019.export_jobs"
INSERT = (
    "INSERT INTO export_jobs (job_id, owner_role, owner_id, patient_id, reader_key_id, "
    "state, runner, created_at, heartbeat_at) VALUES (:job, 'patient', 'p1', 'p1', 'k', "
    ":state, 'r', 1.5, 1.5)"
)


@pytest.mark.parametrize("backend", DATABASES)
def test_the_export_jobs_table_comes_and_goes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with one_migration(backend, JOBS, tmp_path, request) as database:
        with database.transaction():
            database.execute(INSERT, {"job": "a", "state": "done"})
            database.execute(INSERT, {"job": "b", "state": "running"})
        # a second active job of the same owner is refused by the index
        with pytest.raises(Exception, match="export_jobs"), database.transaction():
            database.execute(INSERT, {"job": "c", "state": "queued"})
        with pytest.raises(Exception, match="state"), database.transaction():
            database.execute(INSERT, {"job": "d", "state": "paused"})
        cursor = database.connection.cursor()
        cursor.execute("SELECT job_id, documents_done, size FROM export_jobs ORDER BY job_id")
        assert [tuple(row) for row in cursor.fetchall()] == [("a", 0, None), ("b", 0, None)]
    assert_gone(database, "export_jobs")
