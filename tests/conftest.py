"""Shared fixtures: real backends, started by ``scripts/test`` and found through env;
and the test pyramid's tiers (``unit``, ``integration``, ``e2e``), marked here.

``COFFRE_TEST_PG``    libpq conninfo of a PostgreSQL server we may create databases on
                      (default ``host=127.0.0.1 port=5432 user=postgres``).
``COFFRE_TEST_S3_*``  endpoint and credentials of the S3 server (Ceph RGW) started by
                      ``scripts/s3-server start``; S3 tests are skipped without it unless
                      ``CI`` is set, where a missing server is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.served import scratch_bucket, scratch_database

TESTS = Path(__file__).parent

TIERS = ("unit", "integration", "e2e")

#: folders whose tests start ``coffre serve`` or drive the CLI or schemathesis against it
E2E_FOLDERS = {"cli", "fuzz", "served", "faults"}

#: fixtures (or helpers a test calls itself) that start a real ``coffre serve``
E2E_FIXTURES = {"served", "server", "world", "killed", "coffre_cli", "coffre_as"}
E2E_CALLS = {"serve", "running", "_coffre_serve"}

#: folders of pure code: their tests are unit tests unless they touch a real backend
PURE_FOLDERS = {"unit", "domain", "merkle", "keys", "blobstore"}

#: fixtures that bring a real backend (a database, a bucket, files on disk, ``build``)
BACKEND_FIXTURES = {
    "coffre",
    "pg_server",
    "pg_database",
    "s3_server",
    "s3_bucket",
    "session_pg",
    "session_bucket",
    "machine_coffre",
    "sqlite_store",
    "sqlite_path",
    "tmp_path",
    "tmp_path_factory",
}

#: parameter values that pick a real backend for a fixture that asks for it at run time
#: (``request.getfixturevalue``), which ``fixturenames`` cannot see
BACKEND_PARAMS = {"sqlite", "postgres", "fs", "s3", "sqlite-fs", "postgres-s3"}


def _real_backend(item: pytest.Item, fixtures: set[str]) -> bool:
    if fixtures & BACKEND_FIXTURES:
        return True
    if item.get_closest_marker("postgres") or item.get_closest_marker("s3"):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    return any(isinstance(v, str) and v in BACKEND_PARAMS for v in params.values())


def tier(item: pytest.Item) -> str:
    """The tier of one test, from where it lives and what it uses.

    ``tests/unit/**`` is unit by definition. A test that starts ``coffre serve`` (by
    fixture or by calling ``serve``/``running``) or lives under ``cli``, ``fuzz`` or
    ``served`` is e2e. Otherwise a test that uses a real backend is integration, and a
    test of pure code (``domain``, ``merkle``, ``keys``, ``blobstore``) that does not (no
    backend fixture, no ``postgres``/``s3`` mark, no backend parameter) is unit.
    Everything else (``build()`` on SQLite, the API in process...) is integration.
    """
    folder = Path(str(item.path)).relative_to(TESTS).parts[0]
    if folder == "unit":
        return "unit"
    fixtures = set(getattr(item, "fixturenames", ()))
    function = getattr(item, "function", None)
    calls = set(getattr(getattr(function, "__code__", None), "co_names", ()))
    if folder in E2E_FOLDERS or fixtures & E2E_FIXTURES or calls & E2E_CALLS:
        return "e2e"
    if folder in PURE_FOLDERS and not _real_backend(item, fixtures):
        return "unit"
    return "integration"


#: the folder of the tests that drive a real Chromium (``-m browser`` picks them)
BROWSER_FOLDER = "browser"

#: the folder of the tests that kill and break real engines (``-m faults`` picks them;
#: scripts/test runs them after the rest of the suite, one at a time)
FAULTS_FOLDER = "faults"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, unless it carries one already, the browser
    tests with ``browser`` and the fault tests with ``faults``."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in TIERS):
            item.add_marker(getattr(pytest.mark, tier(item)))
        folder = Path(str(item.path)).relative_to(TESTS).parts[0]
        if folder == BROWSER_FOLDER:
            item.add_marker(pytest.mark.browser)
        if folder == FAULTS_FOLDER:
            item.add_marker(pytest.mark.faults)


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
