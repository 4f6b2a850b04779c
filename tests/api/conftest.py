"""API test fixtures: a real embedded Coffre (SQLite + files) behind the real app.

Clients encrypt for real (``wire.envelope``) so uploads are genuine Coffre envelopes,
and hold real device keys (Ed25519, approved by the demo's enrolment service or with an
enrolment code) so released data keys can be opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ALICE, DOCTOR, HOSPITAL, Caller, caller_factory
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from coffre.bootstrap import Coffre, build
from vault.settings import Settings


@pytest.fixture
def coffre(tmp_path: Path) -> Iterator[Coffre]:
    """An embedded Coffre in a fresh data directory (projections run in process)."""
    # Spaces open at once here: these tests are about HTTP, not the opposition period.
    built = build(Settings(data_dir=tmp_path / "data", opposition_period=timedelta(0)))
    yield built
    built.close()


@pytest.fixture
def app(coffre: Coffre) -> FastAPI:
    """The HTTP API over ``coffre``."""
    return create_app(coffre)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client with the app's lifespan running."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def caller(client: TestClient, coffre: Coffre) -> Any:
    """Make a ``Caller`` for an actor: ``caller(ALICE)``."""
    return caller_factory(client, coffre)


@pytest.fixture
def hospital(caller: Any) -> Caller:
    """The platform service that provisions spaces."""
    return caller(HOSPITAL)


@pytest.fixture
def alice(caller: Any, hospital: Caller) -> Caller:
    """A patient whose space is provisioned."""
    answer = hospital.post("/v1/spaces", json={"patient_id": ALICE.id})
    assert answer.status_code == 201, answer.text
    return caller(ALICE)


@pytest.fixture
def doctor(caller: Any) -> Caller:
    """A doctor with no grant yet."""
    return caller(DOCTOR)
