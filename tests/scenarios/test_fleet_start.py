"""A fleet started at once on a new PostgreSQL database: every process comes up.

Each process creates what does not exist yet (the event store's tables, the key
store's, yoyo's, the views' tracking table). PostgreSQL's ``CREATE TABLE IF NOT
EXISTS`` is not safe against another connection doing the same at the same instant,
and before ``vault.migrations.schema_lock`` one process in two failed with a
duplicate key in ``pg_type``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from coffre import cli_admin
from coffre.bootstrap import Coffre, build
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.scenarios.conftest import postgres_s3_settings
from vault.blobstore_memory import MemoryBlobStore
from wire.values import Role

#: processes of a fleet (API workers, the projection worker, the scheduler)
FLEET = 4


@pytest.mark.postgres
@pytest.mark.s3
def test_processes_started_at_once_on_a_new_database_all_come_up(
    tmp_path: Path,
    pg_database: dict[str, str],
    s3_server: dict[str, str],
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = postgres_s3_settings(
        tmp_path,
        pg_database,
        s3_server,
        s3_bucket,
        master_keys=MasterKeys.generate().current.to_line(),
    )
    # and an operator's ``coffre migrate`` at the same instant
    monkeypatch.setattr(cli_admin, "settings", lambda: settings)
    start = threading.Barrier(FLEET + 1)
    built: list[Coffre] = []
    failed: list[BaseException] = []

    def come_up() -> None:
        start.wait()
        try:
            built.append(build(settings, blobs=MemoryBlobStore()))
        except BaseException as error:
            failed.append(error)

    def migrate() -> None:
        start.wait()
        try:
            cli_admin.migrate()
        except BaseException as error:
            failed.append(error)

    threads = [threading.Thread(target=come_up) for _ in range(FLEET)]
    threads.append(threading.Thread(target=migrate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert failed == []
        assert len(built) == FLEET
        # and they share one working store: what one records, another reads
        hospital = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
        patient_id = patient_id_from_number("2870675123456")
        built[0].vault.provision(patient_id, hospital)
        assert built[-1].vault.recorder.max_notification_id()
    finally:
        for coffre in built:
            coffre.close()
