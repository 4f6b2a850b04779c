"""What an export is: the regulator's query, the JSON Lines writer, the proof batcher.

``TrailQuery`` names one patient or one actor and/or a time window; ``write_export``
streams header, one line per entry and the signed manifest; ``prove_rows`` attaches the
inclusion proofs, fetching the stored nodes of a page of entries in one query.

Format ``coffre-trail-export/2`` (``client.trail_verify`` is its reader; ``/1``, the
same without ``completeness``, is still read for whole-log exports)::

    {"format": "coffre-trail-export/1", "query": {...}, "range": {"first", "end"},
     "checkpoint": {...}, "public_key": "<base64>", "count": N,
     "chain": {"kind": "log"|"space"|"actor", "link": "prev"|"space_prev"|"actor_prev",
               "heads": {"<chain key>": "<hex leaf hash>"}},
     "consistency": {"from_size": m, "proof": ["<hex>", ...]} | null,
     "completeness": {"anchor": <entry line of leaf size - 1> | null,
                      "before": <entry line of leaf first - 1> | null,
                      "after": <entry line of leaf end> | null,
                      "chains": {"<chain key>": {"bucket": b, "heads": {...},
                                                 "proof": ["<hex>", ...],
                                                 "tail": [<entry line>, ...]}}}}
    {"leaf_index": i, "entry": "<the exact canonical entry text>", "inclusion_proof": [...]}
    ...
    {"manifest": {"format", "query", "range", "count", "checkpoint": {"size", "root"},
                  "key_id", "header_sha256", "entries_sha256"}, "signature": "<base64>"}

``range`` is the slice of leaves [first, end) the query covers (time bounds resolve to a
contiguous slice; see ``projections.trail_query``); ``end`` never exceeds the
checkpoint's size. ``completeness`` pins that slice and each chain's end to the
checkpoint: ``anchor`` is the tree's last leaf, whose ``heads`` root is the chain-heads
map (``wire.merkle.heads``) at the checkpoint; per chain of the query, its bucket's
content and proof under that root, and ``tail``, the chain's entries from ``end`` to
its head (only when a time window ends before the head); ``before`` / ``after`` are the
leaves just outside a time window, dated before ``since`` / at or after ``until``.
``heads`` gives, per chain in the export, the leaf hash of the
chain's last entry below ``end``. ``header_sha256`` is the SHA-256 of the header line's
bytes, ``entries_sha256`` that of every entry line followed by ``\\n``: signing both in
the manifest makes any truncation, deletion, insertion or edit of the file detectable,
subset exports included.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TextIO
from uuid import UUID

from domain.space import Space
from projections.trail_events import format_instant
from projections.trail_store import EntryRow
from wire.checkpoint import Checkpoint, canonical_json
from wire.errors import InvalidInput
from wire.merkle import inclusion_proof, nodes_read
from wire.values import Role, require_aware

FORMAT = "coffre-trail-export/2"
LINKS = {"log": "prev", "space": "space_prev", "actor": "actor_prev"}
PROOF_PAGE = 500
_CACHE_LIMIT = 200_000  # node hashes kept between pages (~10 MB)

#: ``fetch(ids)``: stored hashes of the complete subtrees ``(level, idx)``, in one go
NodeFetcher = Callable[[list[tuple[int, int]]], dict[tuple[int, int], bytes]]


@dataclass(frozen=True)
class TrailQuery:
    """What a regulator asks for: one patient, or one actor, and/or a time window.

    ``patient_id`` resolves to its space id (``Space.create_id``). A patient and an
    actor together are refused: neither chain would be contiguous in such a subset.
    """

    patient_id: str | None = None
    space_id: UUID | None = None
    actor_id: str | None = None
    actor_role: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.patient_id is not None:
            derived = Space.create_id(self.patient_id)  # validates the INS
            if self.space_id is not None and self.space_id != derived:
                raise InvalidInput("space_id is not this patient's space", field="space_id")
            object.__setattr__(self, "space_id", derived)
        if self.space_id is not None and self.actor_id is not None:
            raise InvalidInput("query one patient or one actor, not both", field="actor_id")
        if self.actor_role is not None and self.actor_id is None:
            raise InvalidInput("actor_role needs actor_id", field="actor_role")
        if self.actor_role is not None:
            Role(self.actor_role)
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, field=name)
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("since must be before until", field="since")

    @property
    def kind(self) -> str:
        """Which chain links an export of this query: "space", "actor" or "log"."""
        if self.space_id is not None:
            return "space"
        return "actor" if self.actor_id is not None else "log"

    def to_json(self) -> dict[str, Any]:
        """The query as exports state it (and sign it, in the manifest)."""
        return {
            "patient_id": self.patient_id,
            "space_id": str(self.space_id) if self.space_id else None,
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "since": format_instant(self.since) if self.since else None,
            "until": format_instant(self.until) if self.until else None,
        }


@dataclass(frozen=True)
class ExportPlan:
    """Everything the header states, decided before the first entry is written."""

    query: dict[str, Any]
    kind: str
    first: int
    end: int
    checkpoint: Checkpoint
    public_key: bytes
    count: int
    heads: dict[str, str]
    consistency: dict[str, Any] | None = None
    completeness: dict[str, Any] | None = None

    def header(self) -> dict[str, Any]:
        """The first line's object."""
        return {
            "format": FORMAT,
            "query": self.query,
            "range": {"first": self.first, "end": self.end},
            "checkpoint": self.checkpoint.to_json(),
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "count": self.count,
            "chain": {"kind": self.kind, "link": LINKS[self.kind], "heads": self.heads},
            "consistency": self.consistency,
            "completeness": self.completeness,
        }


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: entry count and the checkpoint it is proved against."""

    count: int
    checkpoint: Checkpoint


def write_export(
    out: TextIO,
    plan: ExportPlan,
    entries: Iterable[tuple[int, str, list[bytes]]],
    sign: Callable[[dict[str, Any]], bytes],
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write header, ``entries`` (leaf index, entry text, inclusion proof), manifest.

    Streams: memory stays flat whatever the count. Raises ``RuntimeError`` if
    ``entries`` yields a different number of entries than ``plan.count`` promised (the
    store changed under the export, e.g. a concurrent rebuild); the file is then
    unusable, and its missing manifest says so to any verifier.
    """
    header = canonical_json(plan.header())
    out.write(header + "\n")
    digest = hashlib.sha256()
    count = 0
    for leaf_index, text, proof in entries:
        line = canonical_json(entry_line(leaf_index, text, proof))
        out.write(line + "\n")
        digest.update(line.encode("utf-8") + b"\n")
        count += 1
        if progress is not None and (count % 1000 == 0 or count == plan.count):
            progress(count, plan.count)
    if count != plan.count:
        raise RuntimeError(f"the export announced {plan.count} entries but found {count}")
    manifest = {
        "format": FORMAT,
        "query": plan.query,
        "range": {"first": plan.first, "end": plan.end},
        "count": count,
        "checkpoint": {"size": plan.checkpoint.size, "root": plan.checkpoint.root.hex()},
        "key_id": plan.checkpoint.key_id,
        "header_sha256": hashlib.sha256(header.encode("utf-8")).hexdigest(),
        "entries_sha256": digest.hexdigest(),
    }
    signature = base64.b64encode(sign(manifest)).decode("ascii")
    out.write(canonical_json({"manifest": manifest, "signature": signature}) + "\n")
    return ExportSummary(count, plan.checkpoint)


def entry_line(leaf_index: int, text: str, proof: list[bytes]) -> dict[str, Any]:
    """One entry as an export carries it: index, exact text, inclusion proof in hex."""
    return {"leaf_index": leaf_index, "entry": text, "inclusion_proof": [h.hex() for h in proof]}


def prove_rows(
    rows: Iterable[EntryRow], size: int, fetch: NodeFetcher
) -> Iterator[tuple[int, str, list[bytes]]]:
    """Attach to each row its inclusion proof in the tree of ``size`` leaves.

    Per page of rows, a dry run of ``inclusion_proof`` names every node the proofs will
    read; the ones not cached are fetched in one ``fetch`` call. Upper-level nodes are
    shared by every proof and neighbouring leaves share most of their path, so an
    export reads each stored node about once instead of O(log n) queries per entry.
    """
    cache: dict[tuple[int, int], bytes] = {}
    page: list[EntryRow] = []
    for row in rows:
        page.append(row)
        if len(page) == PROOF_PAGE:
            yield from _prove_page(page, size, cache, fetch)
            page = []
    yield from _prove_page(page, size, cache, fetch)


def _prove_page(
    page: list[EntryRow], size: int, cache: dict[tuple[int, int], bytes], fetch: NodeFetcher
) -> Iterator[tuple[int, str, list[bytes]]]:
    wanted: set[tuple[int, int]] = set()
    for row in page:
        wanted.update(nodes_read(partial(inclusion_proof, row.leaf_index, size)))
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    missing = [node for node in wanted if node not in cache]
    if missing:
        cache.update(fetch(missing))
    for row in page:
        # A node missing from the store reads as b"", which read_node reports as an
        # IntegrityFailure rather than a wrong proof.
        proof = inclusion_proof(row.leaf_index, size, lambda lvl, i: cache.get((lvl, i), b""))
        yield row.leaf_index, row.text, proof
