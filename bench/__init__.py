"""Coffre's benchmarks: every hot path against its physical limit, side by side, in one run.

``python -m bench [--quick] [--json PATH] [--only 1,4,...]``; ``bench.main`` is the entry
point. See ``bench/README.md``.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (``bench.cli.main``)."""
    # imported here, not at the package's import: bench.memclient runs alone in its
    # process to measure the SDK's memory (row 11), and must not load the server's stack
    from bench.cli import main as run

    return run(argv)
