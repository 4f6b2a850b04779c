"""Export fixtures: the SDK against the real app on both backend pairings (SQLite +
files, PostgreSQL + S3), served in process."""

from __future__ import annotations

from tests.feeding import conftest as feeding
from tests.sdk.conftest import connect, enrol, transport

#: a Coffre on both backend pairings, spaces open at once (the feeding tests' own)
coffre = feeding.coffre

__all__ = ["coffre", "connect", "enrol", "transport"]
