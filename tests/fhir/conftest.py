"""FHIR facade fixtures: the real app over a real Coffre on both backend pairings
(SQLite + files, PostgreSQL + S3), with callers that encrypt and hold devices for real."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from coffre.bootstrap import Coffre
from domain.values import Actor
from tests.api.api_helpers import ALICE, BRUNO, DOCTOR, HOSPITAL, Caller, caller_factory
from tests.feeding import conftest as feeding

#: a Coffre on both backend pairings, spaces open at once (the feeding tests' own)
coffre = feeding.coffre


@pytest.fixture
def client(coffre: Coffre) -> Iterator[TestClient]:
    """A test client of the whole app, its lifespan running."""
    with TestClient(create_app(coffre)) as test_client:
        yield test_client


@pytest.fixture
def caller(client: TestClient, coffre: Coffre) -> Any:
    """Make a ``Caller`` for an actor: ``caller(ALICE)``."""
    return caller_factory(client, coffre)


@pytest.fixture
def hospital(caller: Any) -> Caller:
    """The service that provisions spaces and feeds documents."""
    return caller(HOSPITAL)


def provisioned(hospital: Caller, caller: Any, patient: Actor) -> Caller:
    """Provision ``patient``'s space; their caller."""
    answer = hospital.post("/v1/spaces", json={"patient_id": patient.id})
    assert answer.status_code == 201, answer.text
    return caller(patient)  # type: ignore[no-any-return]


@pytest.fixture
def alice(caller: Any, hospital: Caller) -> Caller:
    """A patient whose space is open."""
    return provisioned(hospital, caller, ALICE)


@pytest.fixture
def bruno(caller: Any, hospital: Caller) -> Caller:
    """Another patient whose space is open."""
    return provisioned(hospital, caller, BRUNO)


@pytest.fixture
def doctor(caller: Any) -> Caller:
    """A doctor with no grant yet."""
    return caller(DOCTOR)
