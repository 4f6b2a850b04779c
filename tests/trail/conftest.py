"""Trail fixtures: the scenario backends (SQLite + files, PostgreSQL + S3) and a runner.

``coffre`` builds with every migration present, the trail's 0003 included; the trail
projection is not wired into bootstrap yet, so these tests build its runner themselves.
"""

from __future__ import annotations

import pytest

from coffre.bootstrap import Coffre
from keys.checkpoint import CheckpointSigner
from projections.runner import ProjectionRunner
from projections.source import ApplicationSource
from projections.trail import TrailProjection
from projections.trail_query import Trail
from tests.scenarios.conftest import cast, clock, coffre
from vault.clock import ManualClock

__all__ = ["cast", "clock", "coffre", "signer", "trail", "trail_runner"]


@pytest.fixture
def trail_runner(coffre: Coffre) -> ProjectionRunner:
    """A runner of the trail projection alone, over the vault's notification log."""
    return ProjectionRunner(ApplicationSource(coffre.vault), coffre.views, [TrailProjection()])


@pytest.fixture
def signer(coffre: Coffre) -> CheckpointSigner:
    """The deployment's trail key (from ``COFFRE_TRAIL_KEYS`` or ``trail.keys``)."""
    return coffre.trail.signer


@pytest.fixture
def trail(coffre: Coffre, signer: CheckpointSigner, clock: ManualClock) -> Trail:
    """Queries and checkpoints over the trail tables."""
    return Trail(coffre.views, signer, clock)
