"""Coffre's benchmarks: every hot path against its physical limit, side by side, in one run.

``python -m bench [--quick] [--json PATH] [--only 1,4,...]``; ``bench.main`` is the entry
point. See ``bench/README.md``.
"""

from __future__ import annotations

from bench.cli import main

__all__ = ["main"]
