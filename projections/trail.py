"""The regulator trail: one entry per event of the notification log, in a Merkle tree.

Leaf ``i`` is the ``i``-th event of the notification log (notification ids may have
gaps; leaf indices do not). Its **entry** is the canonical JSON (sorted keys, compact
separators, UTF-8) of::

    v, leaf_index, notification_id, event ("Space.Granted"), originator_id,
    originator_version, at, space_id, actor {role, id, name, profession, organisation},
    details {audit fields, see AUDIT_FIELDS}, event_digest,
    prev, space_prev, actor_prev
    (format 2:) space_prev_leaf, actor_prev_leaf, heads

and its leaf hash is RFC 9162's ``SHA-256(0x00 || entry)``. ``prev`` is the leaf hash
of leaf ``i - 1``; ``space_prev`` / ``actor_prev`` are the leaf hashes of the previous
entry of the same space / the same actor (role and id), or null. Those two chains are
what lets a regulator check that a one-patient or one-professional export has no hole;
``space_prev_leaf`` / ``actor_prev_leaf`` name those entries' leaf indices, and
``heads`` is the root of the chain-heads map after this entry (``wire.merkle.heads``),
which pins where every chain ends at any checkpoint: the export's completeness.

``details`` carries only the fields named in ``AUDIT_FIELDS``: never key material
(``sealed_key``, ``public_key``) and never free text about health (document titles and
dates). ``event_digest`` is the SHA-256 of the canonical JSON of the *whole* event
(``{"topic", "fields"}``), so whoever holds the event store can prove which stored event
an entry stands for without the trail repeating what it must not.

Rows and complete Merkle subtrees (``trail_nodes``, from ``CompactTree``) are written in
the batch's transaction, with the tracking position: a worker killed at any point
resumes exactly, rebuilding its frontier from ``trail_nodes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from projections.runner import Projection
from projections.source import Event
from projections.store import ViewCursor
from projections.trail_events import (
    audit_details,
    event_actor,
    event_digest,
    event_name,
    event_space,
    event_time,
    format_instant,
)
from projections.trail_store import (
    EntryRow,
    fetch_buckets,
    fetch_heads_nodes,
    fetch_nodes,
    resume_tree,
    save_heads,
    v2_from,
)
from wire.canonical_fast import canonical_bytes
from wire.merkle import CompactTree, Node, leaf_hash
from wire.merkle.heads import HeadsTree, NodeFetch, bucket_of

#: the format of entries written from a trail's ``v2_from`` leaf on (see ``EntryBuilder``)
ENTRY_VERSION = 2
#: the columns of a ``trail_entries`` row, in the order ``copy_rows`` writes them
ENTRY_COLUMNS = (
    "leaf_index",
    "notification_id",
    "space_id",
    "actor_role",
    "actor_id",
    "at",
    "entry",
    "leaf_hash",
)
#: ``(kind, key) -> (leaf hash, leaf index) of that chain's latest entry`` or None
#: (kind: "space" or "actor")
HeadLookup = Callable[[str, str], tuple[bytes, int] | None]


class HeadsMap:
    """The chain-heads map (``wire.merkle.heads``) as a batch changes it.

    ``buckets(ids)`` answers the stored content of buckets (chain key -> head leaf
    index), ``nodes(ids)`` the stored map nodes; a fresh trail answers nothing for both.
    ``prepare`` fetches what a batch's chains need in two calls.
    """

    def __init__(self, buckets: BucketFetch, nodes: NodeFetch) -> None:
        self._fetch_buckets = buckets
        self.tree = HeadsTree(nodes)
        self.content: dict[int, dict[str, int]] = {}
        self.changed_chains: dict[str, int] = {}

    def prepare(self, chains: Iterable[str]) -> None:
        """Load the buckets of ``chains`` and the map nodes their paths read."""
        wanted = {bucket_of(chain) for chain in chains} - self.content.keys()
        if wanted:
            self.content.update({b: {} for b in wanted})
            for bucket, heads in self._fetch_buckets(sorted(wanted)).items():
                self.content[bucket] = dict(heads)
            self.tree.load(wanted)

    def head(self, chain: str) -> int | None:
        """The head leaf index of a prepared ``chain``, or None if it has no entry yet."""
        return self.content[bucket_of(chain)].get(chain)

    def update(self, chains: Iterable[str], index: int) -> bytes:
        """Make leaf ``index`` the head of each of ``chains``; returns the new root."""
        for chain in chains:
            bucket = bucket_of(chain)
            if bucket not in self.content:
                self.prepare([chain])
            self.content[bucket][chain] = index
            self.changed_chains[chain] = index
            self.tree.set_bucket(bucket, self.content[bucket])
        return self.tree.root()


#: ``buckets(ids)``: stored content of map buckets, ``{bucket: {chain: head}}``
BucketFetch = Callable[[list[int]], dict[int, dict[str, int]]]


def _no_buckets(ids: list[int]) -> dict[int, dict[str, int]]:
    return {}


def _no_nodes(ids: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    return {}


class EntryBuilder:
    """Turns events into chained entries and Merkle nodes, in leaf order.

    Pure apart from ``heads``, which answers "latest leaf hash and index of this space /
    actor" for chains not yet seen by this builder, and ``heads_map``, the chain-heads
    map as stored (the projection asks the database; a fresh in-memory trail answers
    None and an empty map). Leaves from ``v2_from`` on are of format 2 (they carry the
    map's root and their chains' previous leaf indices); earlier ones of format 1, as
    the version that began the trail wrote them.
    """

    def __init__(
        self,
        tree: CompactTree,
        last_hash: bytes | None,
        heads: HeadLookup,
        heads_map: HeadsMap | None = None,
        *,
        v2_from: int = 0,
    ) -> None:
        self.tree = tree
        self._last = last_hash
        self._lookup = heads
        self._heads: dict[tuple[str, str], tuple[bytes, int] | None] = {}
        self.heads_map = heads_map or HeadsMap(_no_buckets, _no_nodes)
        self.v2_from = v2_from

    def _head(self, kind: str, key: str | None) -> tuple[bytes, int] | None:
        if key is None:
            return None
        if (kind, key) not in self._heads:
            self._heads[(kind, key)] = self._lookup(kind, key)
        return self._heads[(kind, key)]

    def append(self, notification_id: int, event: Event) -> tuple[EntryRow, list[Node]]:
        """Build the next entry for ``event``; returns it and the tree nodes it completed."""
        index = self.tree.size
        space_id = event_space(event)
        actor = event_actor(event)
        space_key = str(space_id) if space_id is not None else None
        actor_key = f"{actor['role']}:{actor['id']}" if actor is not None else None
        at = event_time(event)
        space_prev, actor_prev = self._head("space", space_key), self._head("actor", actor_key)
        chains = [key for key in (space_key, actor_key) if key is not None]
        # the map changes with every leaf, whatever its format: a format-2 leaf's root
        # names the heads of chains begun under format 1 too
        heads_root = self.heads_map.update(chains, index)
        entry: dict[str, Any] = {
            "v": 1,
            "leaf_index": index,
            "notification_id": notification_id,
            "event": event_name(event),
            "originator_id": str(event.originator_id),
            "originator_version": event.originator_version,
            "at": format_instant(at),
            "space_id": space_key,
            "actor": actor,
            "details": audit_details(event),
            "event_digest": event_digest(event),
            "prev": _hex(self._last),
            "space_prev": _hex(space_prev[0] if space_prev else None),
            "actor_prev": _hex(actor_prev[0] if actor_prev else None),
        }
        if index >= self.v2_from:
            entry["v"] = ENTRY_VERSION
            entry["space_prev_leaf"] = space_prev[1] if space_prev else None
            entry["actor_prev_leaf"] = actor_prev[1] if actor_prev else None
            entry["heads"] = heads_root.hex()
        data = canonical_bytes(entry)  # canonical_json's bytes, by a C codec where it agrees
        text = data.decode("utf-8")
        h = leaf_hash(data)
        nodes = self.tree.append(h)
        self._last = h
        if space_key is not None:
            self._heads[("space", space_key)] = (h, index)
        if actor_key is not None:
            self._heads[("actor", actor_key)] = (h, index)
        row = EntryRow(
            leaf_index=index,
            notification_id=notification_id,
            space_id=space_id,
            actor_role=actor["role"] if actor else None,
            actor_id=actor["id"] if actor else None,
            at=at,
            text=text,
            leaf_hash=h,
        )
        return row, nodes


def _hex(h: bytes | None) -> str | None:
    return h.hex() if h is not None else None


class TrailProjection(Projection):
    """Appends every event of the notification log to the regulator trail."""

    name = "trail"
    # trail_checkpoints is NOT here: signed checkpoints were handed out and must survive
    # a rebuild (which reproduces the same tree, so they still verify). Nor is
    # trail_format: a rebuild writes format-1 leaves where the trail first had them.
    tables = ("trail_entries", "trail_nodes", "trail_chains", "trail_heads")

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Append one entry per event, with its Merkle nodes, in the caller's transaction."""
        tree, last_hash = resume_tree(cursor)
        first_v2 = v2_from(cursor, tree.size)
        spaces = {str(s) for _, e in events if (s := event_space(e)) is not None}
        actors = {f"{a['role']}:{a['id']}" for _, e in events if (a := event_actor(e))}
        heads_map = HeadsMap(
            lambda ids: fetch_buckets(cursor, ids), lambda ids: fetch_heads_nodes(cursor, ids)
        )
        heads_map.prepare([*spaces, *actors])
        # The map's buckets already name each chain's head (v2_from filled them for a
        # trail begun without them); its hash is a level-0 node of the narrow
        # trail_nodes. Looking heads up in trail_entries instead cost a backward index
        # scan and a heap fetch in its ~1 KB rows per chain, reads that miss the cache
        # once the log outgrows shared_buffers.
        heads = {("space", key): heads_map.head(key) for key in spaces}
        heads.update({("actor", key): heads_map.head(key) for key in actors})
        found = {key: index for key, index in heads.items() if index is not None}
        hashes = fetch_nodes(cursor, [(0, index) for index in found.values()])
        known = {key: (hashes[(0, index)], index) for key, index in found.items()}
        builder = EntryBuilder(
            tree,
            last_hash,
            lambda kind, key: known.get((kind, key)),
            heads_map,
            v2_from=first_v2,
        )
        entries: list[tuple[Any, ...]] = []
        nodes: list[Node] = []
        for notification_id, event in events:
            row, created = builder.append(notification_id, event)
            entries.append(
                (
                    row.leaf_index,
                    row.notification_id,
                    row.space_id,
                    row.actor_role,
                    row.actor_id,
                    row.at,
                    row.text,
                    row.leaf_hash,
                )
            )
            nodes.extend(created)
        # Both tables are append-only: one COPY each, in the batch's transaction.
        cursor.copy_rows("trail_entries", ENTRY_COLUMNS, entries)
        cursor.copy_rows("trail_nodes", ("level", "idx", "hash"), nodes)
        save_heads(cursor, heads_map.changed_chains, heads_map.tree.changed())
