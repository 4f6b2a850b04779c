"""Snapshots of projection views, to compare an incremental view with a clean rebuild."""

from __future__ import annotations

from typing import Any

from projections.runner import ProjectionRunner


def snapshot(runner: ProjectionRunner) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, sorted, as plain tuples."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for projection in runner.projections.values():
        for table in projection.tables:
            rows = runner.store.query(f"SELECT * FROM {table}")
            tables[table] = sorted(tuple(sorted(row.items())) for row in rows)
    return tables


def rebuilt(runner: ProjectionRunner) -> dict[str, list[tuple[Any, ...]]]:
    """Rebuild every projection from the first event and snapshot the result."""
    for name in runner.projections:
        runner.rebuild(name)
    return snapshot(runner)
