"""Export fixtures: the SDK against the real app on both backend pairings (SQLite +
files, PostgreSQL + S3), served in process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from coffre.bootstrap import Coffre, build
from tests.scenarios.conftest import BACKENDS, backend_settings
from tests.sdk.conftest import connect, enrol, transport
from vault.settings import DEMO_REGISTRY

__all__ = ["coffre", "connect", "enrol", "projecting", "transport"]


@pytest.fixture(params=BACKENDS)
def coffre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Coffre]:
    """A Coffre on one backend pairing; spaces open at once, and the demo's registry
    may appoint legal representatives on both."""
    settings = backend_settings(request, request.param, tmp_path / "data")
    update = {"opposition_period": timedelta(0), "registry_services": DEMO_REGISTRY}
    built = build(settings.model_copy(update=update))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(autouse=True)
def projecting(coffre: Coffre) -> Iterator[None]:
    """Where projections run apart (PostgreSQL), a worker thread beside the app, as a
    deployment's projection workers (the in-process transport runs no lifespan)."""
    if coffre.settings.run_projections_in_process:
        yield
        return
    thread, stop = coffre.runner.start_thread()
    yield
    stop.set()
    thread.join(timeout=10)
