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


def differences(
    live: dict[str, list[tuple[Any, ...]]], rebuilt: dict[str, list[tuple[Any, ...]]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per table that differs, the rows only the live view has and those only a rebuild
    has: what a failed comparison shows instead of pytest's truncated diff."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table in sorted(set(live) | set(rebuilt)):
        mine, theirs = set(live.get(table, [])), set(rebuilt.get(table, []))
        if mine != theirs:
            found[table] = {
                "only_live": [dict(row) for row in sorted(mine - theirs)],
                "only_rebuilt": [dict(row) for row in sorted(theirs - mine)],
            }
    return found
