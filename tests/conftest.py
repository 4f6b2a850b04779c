"""Shared fixtures: real backends, started by ``scripts/test`` and found through env.

``COFFRE_TEST_PG``    libpq conninfo of a PostgreSQL server we may create databases on
                      (default ``host=127.0.0.1 port=5432 user=postgres``).
``COFFRE_TEST_S3_*``  endpoint and credentials of the S3 server (Ceph RGW) started by
                      ``scripts/s3-server start``; S3 tests are skipped without it unless
                      ``CI`` is set, where a missing server is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from tests.served import scratch_bucket, scratch_database

PG_ADMIN = os.environ.get("COFFRE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, dbname="postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _require(available: bool, what: str) -> None:
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not reachable, and CI requires it")
        pytest.skip(f"{what} is not reachable")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """Conninfo (without dbname) of the PostgreSQL server for tests."""
    _require(_pg_available(), "PostgreSQL")
    return PG_ADMIN


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[dict[str, str]]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    Yields the connection parameters as a dict (host, port, user, dbname).
    """
    with scratch_database(pg_server, "coffre_t") as params:
        yield params


def s3_settings() -> dict[str, str] | None:
    """The S3 server's endpoint and credentials from the environment, if any."""
    endpoint = os.environ.get("COFFRE_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    return {
        "endpoint": endpoint,
        "access_key": os.environ["COFFRE_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["COFFRE_TEST_S3_SECRET_KEY"],
    }


@pytest.fixture(scope="session")
def s3_server() -> dict[str, str]:
    """Endpoint (host:port, plain HTTP) and credentials of the real S3 server."""
    settings = s3_settings()
    _require(settings is not None, "The S3 server (COFFRE_TEST_S3_ENDPOINT)")
    assert settings is not None
    return settings


@pytest.fixture
def s3_bucket(s3_server: dict[str, str]) -> Iterator[str]:
    """A fresh bucket name on the S3 server (created by the store under test)."""
    with scratch_bucket(s3_server, "coffre-t") as name:
        yield name
