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

import base64
import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from projections.runner import Event, Projection
from projections.store import ViewCursor
from projections.trail_store import (
    EntryRow,
    fetch_buckets,
    fetch_heads,
    fetch_heads_nodes,
    resume_tree,
    save_heads,
    v2_from,
)
from wire.checkpoint import canonical_json
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
#: event fields copied into ``details``; anything else is bound only by ``event_digest``
AUDIT_FIELDS = frozenset(
    {
        "patient_id",  # Space.Provisioned: links the space to the INS
        "key_id",
        "document_id",
        "version",
        "type",
        "blob",
        "size",
        "sha256",
        "grant_id",
        "grantee",
        "scope",
        "expires_at",
        "reader_key_id",
        "mode",
        "rule",
        "space_version",
        "role",  # Reader.Created: whose reader record
        "actor_id",
        "justification",  # emergency access, when it exists
        "reason",
        "purpose",  # the life of a space: code use, opening, closure, deletion
        "opens_at",
        "express_deletion",
        "archive_until",
        "deletion_due_at",
        "reimported",
        "professional",  # who may read: blocks, attending physician, representatives
        "professional_id",
        "physician",
        "representative",
        "representative_id",
        "kind",
        "until",
        "setting",
        "value",
        "access_id",  # emergency access: its id and who is to be told
        "notify",
        "notice_at",  # documents held for an announcement consultation
        "visible_at",
        "up_to",  # Inbox.Acknowledged: how far a person read their notifications
        "basis",  # on what a grant or a representative's appointment rests
    }
)
#: fields deliberately left out of ``details``: key material, the one-time code's
#: verifier (a hash of a short code invites offline guessing), and personal or health
#: content the audit does not need (document titles and dates, the birth date)
EXCLUDED_FIELDS = frozenset({"sealed_key", "public_key", "code", "title", "date", "birth_date"})
#: fields every event has, or that the entry carries elsewhere
STRUCTURAL_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "at", "space_id"}
)
#: who acted, by the field name each event uses for it (first present wins)
ACTOR_FIELDS = ("actor", "reader", "author")

#: ``(kind, key) -> (leaf hash, leaf index) of that chain's latest entry`` or None
#: (kind: "space" or "actor")
HeadLookup = Callable[[str, str], tuple[bytes, int] | None]


#: types ``canonical_value`` returns unchanged; exact types only, so that a subclass
#: (a str-valued ``Enum``, say) takes the general path, as it always did
_AS_IS = frozenset({str, int, float, bool, type(None)})


def canonical_value(value: Any) -> Any:
    """A JSON-ready form of an event field: UUIDs, times, bytes, enums and sets as text.

    The exact types events mostly hold are tested first (it runs over every field of
    every event of the log); anything else goes through ``_canonical_other``. Entries
    and their hashes depend on this output byte for byte: see
    ``tests/trail/test_trail_digest.py``, which compares it with the original.
    """
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {str(k): canonical_value(v) for k, v in value.items()}
    if kind is UUID:
        return str(value)
    if kind is datetime:
        return format_instant(value)
    if kind is list:
        return [canonical_value(v) for v in value]
    return _canonical_other(value)


def _canonical_other(value: Any) -> Any:
    # The general rules, in their original order: isinstance, so subclasses match.
    if isinstance(value, Enum):
        return canonical_value(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(canonical_value(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class _Shape:
    """What the trail needs to know of an event class, worked out once per class."""

    topic: str
    #: every dataclass field, bound by ``event_digest``
    fields: tuple[str, ...]
    #: the fields copied into ``details``
    audit: tuple[str, ...]


_SHAPES: dict[type, _Shape] = {}


def _shape(kind: type) -> _Shape:
    shape = _SHAPES.get(kind)
    if shape is None:
        names = tuple(f.name for f in dataclasses.fields(kind))
        audit = tuple(name for name in names if _audited(name))
        shape = _SHAPES[kind] = _Shape(get_topic(kind), names, audit)
    return shape


def _audited(name: str) -> bool:
    # Defence in depth: a field called "*key" (not "*key_id") never enters the trail.
    keyish = "key" in name and not name.endswith("key_id")
    return name in AUDIT_FIELDS and not keyish and name not in EXCLUDED_FIELDS


def format_instant(moment: datetime) -> str:
    """Fixed-width RFC 3339 UTC with microseconds: ``2026-11-02T09:00:00.000000Z``."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad these years to four digits; isoformat does
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as that strftime, made in C: UTC's isoformat always ends "+00:00".
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"


def event_digest(event: Event) -> str:
    """SHA-256 (hex) of the canonical JSON of ``{"topic", "fields"}`` of the whole event."""
    shape = _shape(type(event))
    fields = {name: canonical_value(getattr(event, name)) for name in shape.fields}
    text = canonical_json({"topic": shape.topic, "fields": fields})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_name(event: Event) -> str:
    """The short event type: aggregate and event class, ``Space.Granted``."""
    return type(event).__qualname__


def event_space(event: Event) -> UUID | None:
    """The space an event concerns: ``space_id`` if it has one, a Space's own id, else None."""
    space_id = getattr(event, "space_id", None)
    if isinstance(space_id, UUID):
        return space_id
    if event_name(event).startswith("Space."):
        return event.originator_id  # type: ignore[no-any-return]
    return None


def event_actor(event: Event) -> dict[str, Any] | None:
    """Who acted: role, id, name, profession, organisation (and any extra field), or None."""
    for name in ACTOR_FIELDS:
        actor = getattr(event, name, None)
        if isinstance(actor, dict):
            # The five identity fields always (null when absent), plus anything the
            # actor's form gains later (e.g. on whose behalf a representative acts).
            five = {k: actor.get(k) for k in ("role", "id", "name", "profession", "organisation")}
            return {**canonical_value(actor), **five}
    role, actor_id = getattr(event, "role", None), getattr(event, "actor_id", None)
    if isinstance(role, str) and isinstance(actor_id, str):  # Reader.Created
        return {
            "role": role,
            "id": actor_id,
            "name": None,
            "profession": None,
            "organisation": None,
        }
    return None


def event_time(event: Event) -> datetime:
    """The domain time (``at``) when the event has one, else the library's timestamp."""
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else event.timestamp  # type: ignore[no-any-return]


def audit_details(event: Event) -> dict[str, Any]:
    """The event's ``AUDIT_FIELDS``, canonicalised; nothing named like key material."""
    return {name: canonical_value(getattr(event, name)) for name in _shape(type(event)).audit}


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

    def update(self, chains: Iterable[str], index: int) -> bytes:
        """Make leaf ``index`` the head of each of ``chains``; returns the new root."""
        for chain in chains:
            bucket = bucket_of(chain)
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
        text = canonical_json(entry)
        h = leaf_hash(text.encode("utf-8"))
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
        spaces = [str(s) for _, e in events if (s := event_space(e)) is not None]
        actors = [(a["id"], a["role"]) for _, e in events if (a := event_actor(e))]
        known = fetch_heads(cursor, spaces, actors)
        heads_map = HeadsMap(
            lambda ids: fetch_buckets(cursor, ids), lambda ids: fetch_heads_nodes(cursor, ids)
        )
        heads_map.prepare([*spaces, *(f"{role}:{actor_id}" for actor_id, role in actors)])
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
