"""The trail's tables, read and written: entry rows, Merkle nodes, chain heads.

Every read here is an indexed point or range lookup, O(log n) whatever the trail's
size: the frontier (popcount(size) nodes), the heads of the chains a batch extends, the
nodes a page of proofs needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.store import ViewCursor
from wire.merkle import CompactTree, frontier_ids
from wire.merkle.heads import HeadsTree, bucket_of


@dataclass(frozen=True)
class EntryRow:
    """One trail entry as stored: the canonical text and the columns queries use."""

    leaf_index: int
    notification_id: int
    space_id: UUID | None
    actor_role: str | None
    actor_id: str | None
    at: datetime
    text: str
    leaf_hash: bytes


LAST_ENTRY = "SELECT leaf_index, leaf_hash FROM trail_entries ORDER BY leaf_index DESC LIMIT 1"
# SQLite: the wanted ids as a VALUES list joined to the primary key; ``{values}``, as
# above, only ever receives generated placeholders.
NODES = """
WITH w(level, idx) AS (VALUES {values})
SELECT n.level AS level, n.idx AS idx, n.hash AS hash
FROM w JOIN trail_nodes n ON n.level = w.level AND n.idx = w.idx
"""
NODE_BATCH = 2000  # ids per statement: 4,000 bound parameters, well within SQLite's limit
# PostgreSQL: the same as two arrays. The text never changes, so psycopg prepares it after
# a few uses and a proof stops paying for planning (~0.4 ms of ~1.5 ms at 10M entries).
NODES_POSTGRES = """
SELECT n.level AS level, n.idx AS idx, n.hash AS hash
FROM unnest(%(levels)s::smallint[], %(idxs)s::bigint[]) AS w(level, idx)
JOIN trail_nodes n ON n.level = w.level AND n.idx = w.idx
"""


BUCKETS_POSTGRES = (
    "SELECT chain, bucket, head FROM trail_chains WHERE bucket = ANY(%(b)s::integer[])"
)


def fetch_buckets(cursor: ViewCursor, buckets: Sequence[int]) -> dict[int, dict[str, int]]:
    """The stored content of chain-heads buckets: ``{bucket: {chain key: head}}``."""
    found: dict[int, dict[str, int]] = {}
    wanted = sorted(set(buckets))
    if cursor.dialect == "postgres" and wanted:
        # One array: the text never changes, so psycopg prepares it and PostgreSQL
        # plans it once. An IN list of a batch's ~600 buckets was planned at every
        # batch (~1 ms) and, with no statistics during a catch-up, as a sequential
        # scan of the whole table (4.5 ms at 1M events, and growing with the log).
        rows = cursor.fetch(BUCKETS_POSTGRES, {"b": wanted})
        for row in rows:
            found.setdefault(int(row["bucket"]), {})[row["chain"]] = int(row["head"])
        return found
    for start in range(0, len(wanted), NODE_BATCH):
        batch = wanted[start : start + NODE_BATCH]
        params = {f"b{n}": b for n, b in enumerate(batch)}
        marks = ", ".join(f"%(b{n})s" for n in range(len(batch)))
        rows = cursor.fetch(
            f"SELECT chain, bucket, head FROM trail_chains WHERE bucket IN ({marks})",  # noqa: S608
            params,
        )
        for row in rows:
            found.setdefault(int(row["bucket"]), {})[row["chain"]] = int(row["head"])
    return found


def fetch_heads_nodes(
    cursor: ViewCursor, ids: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored chain-heads map nodes ``(level, idx)``; absent ones are empty subtrees."""
    return fetch_nodes(cursor, ids, table="trail_heads")


UPSERT_CHAIN = (
    "INSERT INTO trail_chains (chain, bucket, head) VALUES (%(c)s, %(b)s, %(h)s) "
    "ON CONFLICT (chain) DO UPDATE SET head = excluded.head"
)
UPSERT_NODE = (
    "INSERT INTO trail_heads (level, idx, hash) VALUES (%(l)s, %(i)s, %(h)s) "
    "ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash"
)
# PostgreSQL: a batch's changes as arrays, one statement per table and transaction
# instead of one per row (a 500-event batch changes thousands of map nodes).
UPSERT_CHAINS_POSTGRES = (
    "INSERT INTO trail_chains (chain, bucket, head) "
    "SELECT * FROM unnest(%(c)s::text[], %(b)s::integer[], %(h)s::bigint[]) "
    "ON CONFLICT (chain) DO UPDATE SET head = excluded.head"
)
UPSERT_NODES_POSTGRES = (
    "INSERT INTO trail_heads (level, idx, hash) "
    "SELECT * FROM unnest(%(l)s::smallint[], %(i)s::bigint[], %(h)s::bytea[]) "
    "ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash"
)


def save_heads(
    cursor: ViewCursor, chains: dict[str, int], nodes: Sequence[tuple[int, int, bytes]]
) -> None:
    """Store a batch's new chain heads and changed map nodes (in its transaction)."""
    ordered = sorted(chains.items())
    if cursor.dialect == "postgres":
        if ordered:
            cursor.execute(
                UPSERT_CHAINS_POSTGRES,
                {
                    "c": [chain for chain, _ in ordered],
                    "b": [bucket_of(chain) for chain, _ in ordered],
                    "h": [head for _, head in ordered],
                },
            )
        if nodes:
            cursor.execute(
                UPSERT_NODES_POSTGRES,
                {
                    "l": [level for level, _, _ in nodes],
                    "i": [idx for _, idx, _ in nodes],
                    "h": [h for _, _, h in nodes],
                },
            )
        return
    for chain, head in ordered:
        cursor.execute(UPSERT_CHAIN, {"c": chain, "b": bucket_of(chain), "h": head})
    for level, idx, h in nodes:
        cursor.execute(UPSERT_NODE, {"l": level, "i": idx, "h": h})


def v2_from(cursor: ViewCursor, size: int) -> int:
    """The first leaf of format 2; recorded (and the map filled) on first use.

    A trail begun by an earlier version has format-1 leaves and no map: they stay as
    they are (signed checkpoints cover them), the map is filled from their chains
    once, and format 2 starts at the next leaf.
    """
    rows = cursor.fetch("SELECT v2_from FROM trail_format WHERE id = 1")
    if rows:
        return int(rows[0]["v2_from"])
    cursor.execute("INSERT INTO trail_format (id, v2_from) VALUES (1, %(n)s)", {"n": size})
    if size:
        _fill_map(cursor)
    return size


def _fill_map(cursor: ViewCursor) -> None:
    heads: dict[str, int] = {}
    for row in cursor.fetch(
        "SELECT space_id, max(leaf_index) AS head FROM trail_entries "
        "WHERE space_id IS NOT NULL GROUP BY space_id"
    ):
        heads[str(row["space_id"])] = int(row["head"])
    for row in cursor.fetch(
        "SELECT actor_role, actor_id, max(leaf_index) AS head FROM trail_entries "
        "WHERE actor_id IS NOT NULL GROUP BY actor_role, actor_id"
    ):
        heads[f"{row['actor_role']}:{row['actor_id']}"] = int(row["head"])
    buckets: dict[int, dict[str, int]] = {}
    for chain, head in heads.items():
        buckets.setdefault(bucket_of(chain), {})[chain] = head
    tree = HeadsTree(lambda ids: {})
    for bucket, content in sorted(buckets.items()):
        tree.set_bucket(bucket, content)
    save_heads(cursor, heads, tree.changed())


def fetch_nodes(
    cursor: ViewCursor, ids: Sequence[tuple[int, int]], table: str = "trail_nodes"
) -> dict[tuple[int, int], bytes]:
    """Stored subtree hashes for ``(level, idx)`` ids, absent ones left out.

    ``table``: ``trail_nodes`` (the log's tree) or ``trail_heads`` (the chain-heads map).

    One round trip per ``NODE_BATCH`` ids (a proof needs ~log2(size), a page of export
    proofs ~2 per entry): each id is a primary-key probe, so a proof costs one query
    instead of one per node.
    """
    wanted = sorted(set(ids))
    found: dict[tuple[int, int], bytes] = {}
    for start in range(0, len(wanted), NODE_BATCH):
        batch = wanted[start : start + NODE_BATCH]
        if cursor.dialect == "postgres":
            sql = NODES_POSTGRES.replace("trail_nodes", table)
            params: dict[str, Any] = {
                "levels": [level for level, _ in batch],
                "idxs": [idx for _, idx in batch],
            }
        else:
            params = {}
            for n, (level, idx) in enumerate(batch):
                params[f"l{n}"], params[f"i{n}"] = level, idx
            marks = ", ".join(f"(%(l{n})s, %(i{n})s)" for n in range(len(batch)))
            sql = NODES.format(values=marks).replace("trail_nodes", table)
        for row in cursor.fetch(sql, params):
            found[(row["level"], row["idx"])] = bytes(row["hash"])
    return found


def resume_tree(cursor: ViewCursor) -> tuple[CompactTree, bytes | None]:
    """The stored tree's frontier and last leaf hash, read in the caller's transaction."""
    last = cursor.fetch(LAST_ENTRY)
    if not last:
        return CompactTree(), None
    size = last[0]["leaf_index"] + 1
    nodes = fetch_nodes(cursor, frontier_ids(size))
    tree = CompactTree.resume(size, lambda level, idx: nodes.get((level, idx), b""))
    return tree, bytes(last[0]["leaf_hash"])


def entry_from_row(r: dict[str, Any]) -> EntryRow:
    at = r["at"] if isinstance(r["at"], datetime) else parse_sqlite_time(r["at"])
    space = r["space_id"]
    return EntryRow(
        leaf_index=int(r["leaf_index"]),
        notification_id=int(r["notification_id"]),
        space_id=UUID(str(space)) if space is not None else None,
        actor_role=r["actor_role"],
        actor_id=r["actor_id"],
        at=at,
        text=r["entry"],
        leaf_hash=bytes(r["leaf_hash"]),
    )


def parse_sqlite_time(text: str) -> datetime:
    """SQLite keeps instants as ISO-8601 text (see ``projections.store``)."""
    return datetime.fromisoformat(text)
