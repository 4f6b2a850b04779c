"""Which leaves an export covers: a time window's slice, the patient and actor chains
it follows, and a consistent snapshot of those chains' heads (``wire.merkle.heads``).

The module doc of ``projections.trail_query`` says how a window resolves; the one of
``projections.trail_export`` what pins the slice and chains to a checkpoint.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from projections.store import ViewStore
from projections.trail_export import TrailQuery
from projections.trail_store import fetch_buckets, fetch_heads_nodes
from wire.errors import Unavailable
from wire.merkle.heads import HeadsTree, bucket_of, path_ids
from wire.values import Role


def window(
    store: ViewStore, since: datetime | None, until: datetime | None, size: int
) -> tuple[int, int]:
    """The slice of leaves [first, end) a time window resolves to (see module doc).

    ``first`` follows the last leaf dated before ``since``; ``end`` is the first
    leaf from ``first`` on dated at or after ``until``. So every leaf of the slice is
    dated inside the window, and the two leaves just outside it prove where it
    stops, which is what a verifier checks (``completeness.before`` / ``after``).
    """
    first, end = 0, size
    if since is not None:
        rows = store.query(
            "SELECT max(leaf_index) AS j FROM trail_entries "
            "WHERE at < %(t)s AND leaf_index < %(n)s",
            {"t": since, "n": size},
        )
        first = int(rows[0]["j"]) + 1 if rows and rows[0]["j"] is not None else 0
    if until is not None:
        rows = store.query(
            "SELECT min(leaf_index) AS j FROM trail_entries "
            "WHERE at >= %(t)s AND leaf_index >= %(f)s AND leaf_index < %(n)s",
            {"t": until, "f": first, "n": size},
        )
        end = int(rows[0]["j"]) if rows and rows[0]["j"] is not None else size
    return first, max(first, end)


def heads_snapshot(
    store: ViewStore, chains: list[str]
) -> tuple[int, dict[str, tuple[int, dict[str, int], list[bytes]]]]:
    """The trail's size and, for each chain key, its bucket, the bucket's content and
    the bucket's proof in the chain-heads map, all of the same moment.

    The map is updated in place by each batch; the size is read before and after,
    and a batch committed in between (the size moved) means reading again.
    """
    for _ in range(20):
        with store.transaction() as cursor:
            before = trail_size(cursor)
            buckets = [bucket_of(chain) for chain in chains]
            content = fetch_buckets(cursor, buckets)
            ids = [node for b in buckets for node in path_ids(b)]
            nodes = fetch_heads_nodes(cursor, ids) if ids else {}
            after = trail_size(cursor)
        if before == after:
            tree = HeadsTree(partial(known_nodes, nodes))
            tree.load(buckets)
            maps = {
                chain: (b, content.get(b, {}), tree.proof(b))
                for chain, b in zip(chains, buckets, strict=True)
            }
            return before, maps
    raise Unavailable("the trail kept growing while its export was prepared; try again")


def chain_keys(query: TrailQuery) -> list[str]:
    """The chain keys an export of ``query`` covers (none for a slice of the log)."""
    if query.kind == "space":
        return [str(query.space_id)]
    if query.kind == "actor":
        roles = [query.actor_role] if query.actor_role else [r.value for r in Role]
        return [f"{role}:{query.actor_id}" for role in roles]
    return []


def chain_query(query: TrailQuery, chain: str) -> TrailQuery:
    """The query of one chain of ``query`` (an actor's chain is per role)."""
    if query.kind == "space":
        return TrailQuery(space_id=query.space_id)
    role, _, actor_id = chain.partition(":")
    return TrailQuery(actor_id=actor_id, actor_role=role)


def known_nodes(
    nodes: dict[tuple[int, int], bytes], wanted: list[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    return {n: nodes[n] for n in wanted if n in nodes}


def trail_size(cursor: Any) -> int:
    rows = cursor.fetch("SELECT max(leaf_index) AS last FROM trail_entries")
    last = rows[0]["last"] if rows else None
    return 0 if last is None else int(last) + 1


def entry_filters(query: TrailQuery) -> tuple[str, dict[str, Any]]:
    if query.space_id is not None:
        return " AND space_id = %(space)s", {"space": query.space_id}
    if query.actor_id is not None:
        if query.actor_role is not None:
            return (
                " AND actor_id = %(actor)s AND actor_role = %(role)s",
                {"actor": query.actor_id, "role": query.actor_role},
            )
        return " AND actor_id = %(actor)s", {"actor": query.actor_id}
    return "", {}
