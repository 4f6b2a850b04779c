"""Client fixtures: the trail's (a real store, its signer) to make exports the client checks."""

from __future__ import annotations

from tests.trail.conftest import cast, clock, coffre, signer, trail, trail_runner

__all__ = ["cast", "clock", "coffre", "signer", "trail", "trail_runner"]
