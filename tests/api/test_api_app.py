"""The application shell: lifespan and projections, and the last-resort handlers."""

from __future__ import annotations

import threading
from pathlib import Path

from api_helpers import ALICE, HOSPITAL
from fastapi.testclient import TestClient
from test_api_problems import assert_problem

from api.app import create_app
from coffre.bootstrap import build
from vault.settings import Settings


def _projection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "projections" and t.is_alive()]


def test_embedded_mode_runs_projections_for_the_lifespan_only(tmp_path: Path) -> None:
    coffre = build(Settings(data_dir=tmp_path))
    try:
        assert coffre.settings.run_projections_in_process
        before = len(_projection_threads())
        with TestClient(create_app(coffre)):
            assert len(_projection_threads()) == before + 1
        assert len(_projection_threads()) == before
    finally:
        coffre.close()


def test_with_separate_workers_the_api_neither_runs_nor_catches_up(tmp_path: Path) -> None:
    coffre = build(Settings(data_dir=tmp_path, projections_in_process=False))
    try:
        before = len(_projection_threads())
        with TestClient(create_app(coffre)) as client:
            assert len(_projection_threads()) == before
            service = {"Authorization": f"Bearer {coffre.tokens.mint(HOSPITAL)}"}
            patient = {"Authorization": f"Bearer {coffre.tokens.mint(ALICE)}"}
            client.post("/v1/spaces", json={"patient_id": ALICE.id}, headers=service)
            url = f"/v1/spaces/{ALICE.id}/access-log"
            # The log is a projection: until a worker runs, it is empty...
            assert client.get(url, headers=patient).json()["entries"] == []
            # ...and shows the provisioning once the worker has caught up.
            coffre.runner.catch_up()
            (entry,) = client.get(url, headers=patient).json()["entries"]
            assert entry["action"] == "provision"
    finally:
        coffre.close()


def test_a_body_that_cannot_be_decoded_is_invalid_input(client: TestClient) -> None:
    answer = client.post(
        "/v1/spaces",
        content=b'{"patient_id": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(answer, 422, "invalid-input", field="body")
