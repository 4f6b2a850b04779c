"""Regulator queries over the trail: checkpoints, entries, proofs, exports.

Proofs come from ``wire.merkle.proof`` over the ``trail_nodes`` they need: O(log n)
primary-key lookups, named up front and fetched in one query, whatever the trail's
size. Exports batch those lookups (one query per page of entries) and cache the upper
levels every proof shares.

**Time windows** resolve to a contiguous slice of leaves: from the leaf after the last
one dated before ``since`` up to (excluded) the first leaf after it dated at or after
``until``. Entries are dated by the vault's clock when the command ran and appended in
commit order; the two orders agree except across concurrent commits. A gap-free slice
whose two neighbours are dated outside the window is what lets a regulator prove that
nothing inside it was left out (the export carries both neighbours).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TextIO, TypeVar
from uuid import UUID

import structlog

from projections.store import ViewStore
from projections.trail_export import (
    ExportPlan,
    ExportSummary,
    TrailQuery,
    entry_line,
    prove_rows,
    write_export,
)
from projections.trail_keys import Clock, Signer, TrailKeys, checkpoint_rows
from projections.trail_slices import (
    chain_keys,
    chain_query,
    entry_filters,
    heads_snapshot,
    window,
)
from projections.trail_store import (
    EntryRow,
    entry_from_row,
    fetch_nodes,
)
from wire.checkpoint import Checkpoint
from wire.errors import InvalidInput, Unavailable
from wire.merkle import NodeReader, consistency_proof, inclusion_proof, nodes_read, root
from wire.merkle.verify import RootMismatch
from wire.values import Role

__all__ = ["Trail", "TrailQuery"]

PAGE = 500
T = TypeVar("T")
log = structlog.get_logger(__name__)


class Trail:
    """Reads the trail tables; signs checkpoints with the trail key."""

    def __init__(self, store: ViewStore, signer: Signer, clock: Clock | None = None) -> None:
        """``clock`` (anything with ``now()``) dates checkpoints; default: the wall clock."""
        self.store = store
        self.signer = signer
        self.clock = clock
        #: the published keys and their periods (``projections.trail_keys``)
        self.keys = TrailKeys(store)
        self._warned_retired = False

    # -- tree --------------------------------------------------------------------

    def size(self) -> int:
        """Number of entries projected so far."""
        rows = self.store.query("SELECT max(leaf_index) AS last FROM trail_entries")
        last = rows[0]["last"] if rows else None
        return 0 if last is None else int(last) + 1

    def root(self, size: int) -> bytes:
        """MTH of the first ``size`` entries, from popcount(size) stored subtrees."""
        return self._from_nodes(partial(root, size))

    def inclusion_proof(self, leaf_index: int, size: int) -> list[bytes]:
        """RFC 9162 audit path of ``leaf_index`` in the tree of ``size`` (one query)."""
        self._require_size(size)
        return self._from_nodes(partial(inclusion_proof, leaf_index, size))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 proof that the tree of ``new`` entries extends the one of ``old``."""
        self._require_size(new)
        return self._from_nodes(partial(consistency_proof, old, new))

    def _from_nodes(self, build: Callable[[NodeReader], T]) -> T:
        """``build(node)`` over the stored nodes it reads, fetched in one query.

        The O(log n) node ids depend only on sizes and indices (``nodes_read``): one
        round trip instead of one per node, which is what keeps a proof at 10M entries
        close to one at 10k.
        """
        with self.store.transaction() as cursor:
            nodes = fetch_nodes(cursor, nodes_read(build))
        # A node missing from the store reads as b"", which read_node reports as an
        # IntegrityFailure rather than a wrong proof.
        return build(lambda level, idx: nodes.get((level, idx), b""))

    def _require_size(self, size: int) -> None:
        if isinstance(size, int) and size > self.size():
            raise InvalidInput(f"the trail has fewer than {size} entries", field="size")

    # -- checkpoints -------------------------------------------------------------

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """Sign the current size (or ``size``, no larger) and its root now, store it and
        return it.

        If this key signed a checkpoint of this size it is returned instead: one signed
        statement per size and key (the table's key), its time the first time it was
        true. Refuses (``Unavailable``) when this process's key is no longer the trail's
        (``TrailKeys.require_signing``).
        """
        size = self.size() if size is None else size
        mine = {"size": size, "key_id": self.signer.key_id}
        existing = self._checkpoint_rows("WHERE size = %(size)s AND key_id = %(key_id)s", mine)
        if existing:
            return existing[0]
        now = self._now()
        self.keys.require_signing(self.signer, now)
        checkpoint = self.signer.sign(size, self.root(size), now)
        with self.store.transaction() as cursor:
            cursor.execute(
                "INSERT INTO trail_checkpoints (size, root, at, key_id, signature) "
                "VALUES (%(size)s, %(root)s, %(at)s, %(key_id)s, %(signature)s) "
                "ON CONFLICT (size, key_id) DO NOTHING",
                {
                    "size": checkpoint.size,
                    "root": checkpoint.root,
                    "at": checkpoint.at,
                    "key_id": checkpoint.key_id,
                    "signature": checkpoint.signature,
                },
            )
        return self._checkpoint_rows("WHERE size = %(size)s AND key_id = %(key_id)s", mine)[0]

    def checkpoint_if_due(self, every: timedelta) -> Checkpoint | None:
        """The periodic job: sign when the trail grew and the last checkpoint is older
        than ``every``, or when another key signed the last one (the key rotated);
        returns the new checkpoint or None.

        A process whose key was retired signs nothing: it says so once in the log and
        goes on projecting (a restart gives it the current key).
        """
        latest = self.latest_checkpoint()
        if (
            latest is not None
            and latest.key_id == self.signer.key_id
            and (latest.size == self.size() or self._now() - latest.at < every)
        ):
            return None
        try:
            return self.checkpoint()
        except Unavailable as refused:
            if not self._warned_retired:
                log.warning("trail_key_retired", key_id=self.signer.key_id, detail=refused.detail)
                self._warned_retired = True
            return None

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint of the largest size (the latest signed, if two keys signed
        it), or None before the first."""
        rows = self._checkpoint_rows("ORDER BY size DESC, at DESC LIMIT 1", {})
        return rows[0] if rows else None

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, smallest first."""
        return self._checkpoint_rows("ORDER BY size", {})

    def audit_checkpoints(self) -> int:
        """Check every stored checkpoint against the tree as stored now (after a rebuild).

        Returns how many were checked; raises ``RootMismatch`` for the first whose root
        the stored tree no longer reproduces. Checkpoints beyond the current size (the
        projection is still catching up) are skipped.
        """
        size, checked = self.size(), 0
        for checkpoint in self.checkpoints():
            if checkpoint.size <= size:
                calculated = self.root(checkpoint.size)
                if calculated != checkpoint.root:
                    raise RootMismatch(checkpoint.root, calculated, what="checkpoint root")
                checked += 1
        return checked

    def _checkpoint_rows(self, tail: str, params: dict[str, Any]) -> list[Checkpoint]:
        return checkpoint_rows(self.store, tail, params)

    def _now(self) -> datetime:
        if self.clock is not None:
            return self.clock.now()
        return datetime.now(UTC)

    # -- entries -----------------------------------------------------------------

    def window(self, since: datetime | None, until: datetime | None, size: int) -> tuple[int, int]:
        """The slice of leaves [first, end) a time window resolves to (``trail_slices``)."""
        return window(self.store, since, until, size)

    def entries(
        self,
        by_space: UUID | None = None,
        by_actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        actor_role: str | None = None,
        size: int | None = None,
    ) -> Iterator[EntryRow]:
        """Matching entries in leaf order, streamed a page at a time (keyset paging).

        ``size`` bounds the leaves considered (default: all projected now).
        """
        query = TrailQuery(
            space_id=by_space, actor_id=by_actor, actor_role=actor_role, since=since, until=until
        )
        first, end = self.window(since, until, self.size() if size is None else size)
        yield from self._rows(query, first, end)

    def _rows(self, query: TrailQuery, first: int, end: int) -> Iterator[EntryRow]:
        where, params = entry_filters(query)
        params.update({"end": end, "limit": PAGE})
        after = first - 1
        while True:
            params["after"] = after
            # Only our own clause strings are interpolated; values are bound parameters.
            rows = self.store.query(
                "SELECT * FROM trail_entries WHERE leaf_index > %(after)s "  # noqa: S608
                f"AND leaf_index < %(end)s{where} ORDER BY leaf_index LIMIT %(limit)s",
                params,
            )
            for r in rows:
                yield entry_from_row(r)
            if len(rows) < PAGE:
                return
            after = int(rows[-1]["leaf_index"])

    def count(self, query: TrailQuery, first: int, end: int) -> int:
        """How many entries of [first, end) match ``query``."""
        if query.kind == "log":
            return end - first  # leaf indices have no gaps
        where, params = entry_filters(query)
        params.update({"first": first, "end": end})
        rows = self.store.query(
            "SELECT count(*) AS n FROM trail_entries "  # noqa: S608 - clauses are ours
            f"WHERE leaf_index >= %(first)s AND leaf_index < %(end)s{where}",
            params,
        )
        return int(rows[0]["n"])

    def heads(self, query: TrailQuery, end: int) -> dict[str, str]:
        """Per chain of the query, the leaf hash of its last entry below ``end``."""
        base = "SELECT leaf_hash FROM trail_entries WHERE leaf_index < %(end)s"
        order = " ORDER BY leaf_index DESC LIMIT 1"
        chains: list[tuple[str, str, dict[str, Any]]] = []
        if query.kind == "space":
            chains.append((str(query.space_id), " AND space_id = %(s)s", {"s": query.space_id}))
        elif query.kind == "actor":
            roles = [query.actor_role] if query.actor_role else [r.value for r in Role]
            for role in roles:
                chains.append(
                    (
                        f"{role}:{query.actor_id}",
                        " AND actor_id = %(a)s AND actor_role = %(r)s",
                        {"a": query.actor_id, "r": role},
                    )
                )
        else:
            chains.append(("log", "", {}))
        heads: dict[str, str] = {}
        for key, clause, params in chains:
            rows = self.store.query(base + clause + order, {"end": end, **params})
            if rows:
                heads[key] = bytes(rows[0]["leaf_hash"]).hex()
        return heads

    def patient_of(self, space_id: str) -> str | None:
        """The INS of a space, from its ``Space.Provisioned`` entry (None if not seen)."""
        rows = self.store.query(
            "SELECT entry FROM trail_entries WHERE space_id = %(s)s ORDER BY leaf_index LIMIT 1",
            {"s": UUID(space_id)},
        )
        if not rows:
            return None
        entry = json.loads(rows[0]["entry"])
        patient = entry.get("details", {}).get("patient_id")
        return patient if isinstance(patient, str) else None

    # -- exports -----------------------------------------------------------------

    def export_jsonl(
        self,
        query: TrailQuery,
        out: TextIO,
        progress: Callable[[int, int], None] | None = None,
        *,
        from_size: int | None = None,
    ) -> ExportSummary:
        """Write the JSON Lines export of ``query`` (format in ``projections.trail_export``).

        Proved against the latest checkpoint if it covers the whole trail, else a new
        one signed now. ``from_size``: also carry the consistency proof from the
        checkpoint of that size a regulator already holds.
        """
        size, maps = heads_snapshot(self.store, chain_keys(query))
        checkpoint = self.latest_checkpoint()
        # the manifest is signed by this key and names the checkpoint's: they are one key
        if checkpoint is None or checkpoint.size != size or checkpoint.key_id != self.signer.key_id:
            checkpoint = self.checkpoint(size)
        consistency = None
        if from_size is not None:
            if from_size > size:
                raise InvalidInput("from_size is beyond the checkpoint", field="from_size")
            proof = self.consistency_proof(from_size, size)
            consistency = {"from_size": from_size, "proof": [h.hex() for h in proof]}
        first, end = self.window(query.since, query.until, size)
        plan = ExportPlan(
            query=query.to_json(),
            kind=query.kind,
            first=first,
            end=end,
            checkpoint=checkpoint,
            public_key=self.signer.public_key,
            count=self.count(query, first, end),
            heads=self.heads(query, end),
            consistency=consistency,
            completeness=self._completeness(query, size, first, end, maps),
        )
        entries = prove_rows(self._rows(query, first, end), size, self._fetch_nodes)
        return write_export(out, plan, entries, self.signer.sign_manifest, progress)

    def _completeness(
        self,
        query: TrailQuery,
        size: int,
        first: int,
        end: int,
        maps: dict[str, tuple[int, dict[str, int], list[bytes]]],
    ) -> dict[str, Any]:
        """What pins the export's slice and chains to the checkpoint (module doc of
        ``projections.trail_export``)."""
        chains: dict[str, Any] = {}
        for chain, (bucket, content, proof) in maps.items():
            head = content.get(chain)
            tail: list[dict[str, Any]] = []
            if head is not None and head >= end:
                rows = self._rows(chain_query(query, chain), end, size)
                tail = [
                    entry_line(i, t, p) for i, t, p in prove_rows(rows, size, self._fetch_nodes)
                ]
            chains[chain] = {
                "bucket": bucket,
                "heads": content,
                "proof": [h.hex() for h in proof],
                "tail": tail,
            }
        return {
            "anchor": self._line(size - 1, size) if size else None,
            "before": self._line(first - 1, size) if query.since and first > 0 else None,
            "after": self._line(end, size) if query.until and end < size else None,
            "chains": chains,
        }

    def _line(self, leaf_index: int, size: int) -> dict[str, Any]:
        rows = self.store.query(
            "SELECT * FROM trail_entries WHERE leaf_index = %(i)s", {"i": leaf_index}
        )
        row = entry_from_row(rows[0])
        return entry_line(leaf_index, row.text, self.inclusion_proof(leaf_index, size))

    def _fetch_nodes(self, ids: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        with self.store.transaction() as cursor:
            return fetch_nodes(cursor, ids)

    def export_fhir(self, query: TrailQuery, *, from_size: int | None = None) -> dict[str, Any]:
        """The export as a FHIR R4 Bundle of AuditEvents (see ``projections.trail_fhir``)."""
        from projections.trail_fhir import bundle_from_export

        buffer = io.StringIO()
        self.export_jsonl(query, buffer, from_size=from_size)
        return bundle_from_export(buffer.getvalue(), self.patient_of, self._now())
