"""Projection tests reuse the scenario fixtures (both backends, a cast of actors)."""

from tests.scenarios.conftest import cast, clock, coffre  # noqa: F401
