"""The checks behind ``client.trail_verify``: header and checkpoint, then entry by
entry, then the manifest (completeness in ``client.trail_completeness``).

Internal to the verifier (``client.trail_verify`` is the public face). Pure: standard
library, ``wire.merkle`` and the signature checks of ``wire.checkpoint``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from client.trail_completeness import Completeness
from client.trail_format import (
    ENTRY_KEYS,
    FORMAT,
    INSTANT,
    LEGACY_FORMAT,
    LINKS,
    ProofReader,
    TrailMismatchError,
    TrailVerificationError,
    entry_bytes,
    entry_leaf_hash,
    fail,
    is_count,
    is_hash,
    parse_entry,
    proof_hashes,
    utf8,
)
from wire.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignatureInvalid,
    decode_b64,
    verify_checkpoint,
    verify_manifest,
)
from wire.merkle import verify_consistency
from wire.merkle.verify import InclusionVerifier, ProofError, RootMismatch
from wire.trail_keys import KeyOutsidePeriod, TrailKeySet, UnknownTrailKey

__all__ = [
    "FORMAT",
    "LEGACY_FORMAT",
    "EntryWalker",
    "HeaderCheck",
    "TrailMismatchError",
    "TrailVerificationError",
    "fail",
]


class HeaderCheck:
    """The parsed, checked first line."""

    def __init__(
        self,
        header: dict[str, Any],
        public_key: bytes | None,
        key_set: TrailKeySet | None = None,
    ) -> None:
        self.key_set = key_set
        self.format = header.get("format")
        if self.format not in (FORMAT, LEGACY_FORMAT):
            fail(f"format is not {FORMAT}", "format", 1)
        try:
            self.checkpoint = Checkpoint.from_json(header.get("checkpoint"))
            self.key = decode_b64(header.get("public_key"), 32, "public key")
        except CheckpointFormatError as error:
            fail(error.detail, "checkpoint-format", 1)
        if public_key is not None and self.key != public_key:
            raise TrailMismatchError(
                "the export's public key is not the trail's",
                check="public-key",
                expected=public_key,
                calculated=self.key,
                line=1,
            )
        if key_set is not None:
            published = self.published_key(self.checkpoint, "")
            if self.key != published:
                raise TrailMismatchError(
                    "the export's public key is not the one the key set publishes for "
                    f"its checkpoint's key {self.checkpoint.key_id}",
                    check="public-key",
                    expected=published,
                    calculated=self.key,
                    line=1,
                )
        try:
            verify_checkpoint(self.checkpoint, self.key)
        except (SignatureInvalid, CheckpointFormatError) as error:
            fail(error.detail, "checkpoint-signature", 1)
        query, span, chain = header.get("query"), header.get("range"), header.get("chain")
        if not (isinstance(query, dict) and isinstance(span, dict) and isinstance(chain, dict)):
            fail("query, range and chain are objects", "format", 1)
        self.query, self.first, self.end = query, span.get("first"), span.get("end")
        if not (
            is_count(self.first)
            and is_count(self.end)
            and self.first <= self.end <= self.checkpoint.size
        ):
            fail("range is not a slice of the checkpoint's tree", "range", 1)
        self.kind = (
            "space" if query.get("space_id") else "actor" if query.get("actor_id") else "log"
        )
        self.link, self.heads = LINKS[self.kind], chain.get("heads")
        if chain.get("kind") != self.kind or chain.get("link") != self.link:
            fail(f"a {self.kind} query is chained by {self.link}", "format", 1)
        if not isinstance(self.heads, dict) or not is_count(header.get("count")):
            fail("chain heads and count are missing", "format", 1)
        self.count: int = header["count"]
        self.consistency = header.get("consistency")
        self._check_range()
        self.completeness = Completeness(self, header.get("completeness"))

    def _check_range(self) -> None:
        """A query without a bound covers the log from its start / up to the checkpoint;
        a format-1 export proves no more than a whole log."""
        since, until = self.query.get("since"), self.query.get("until")
        for name, value in (("since", since), ("until", until)):
            if value is not None and not (isinstance(value, str) and INSTANT.fullmatch(value)):
                fail(f"the query's {name} is not an instant", "format", 1)
        self.since: str | None = since
        self.until: str | None = until
        if since is None and self.first != 0:
            fail("an export without since starts at leaf 0", "range", 1)
        if until is None and self.end != self.checkpoint.size:
            fail(
                f"an export without until ends at the checkpoint's size {self.checkpoint.size}",
                "range",
                1,
            )
        if self.format == LEGACY_FORMAT and (self.kind != "log" or since or until):
            fail(
                f"a {LEGACY_FORMAT} export of a patient, an actor or a time window cannot "
                "prove that it is complete; export it again with this version",
                "format",
                1,
            )

    def published_key(self, checkpoint: Checkpoint, what: str) -> bytes:
        """The key set's key for ``checkpoint`` (named by it, its period covering the
        checkpoint's time), or a failure ``key-unknown`` / ``key-period`` on line 1."""
        assert self.key_set is not None
        try:
            return self.key_set.key_for(checkpoint)
        except KeyOutsidePeriod as error:
            fail(what + error.detail, "key-period", 1)
        except UnknownTrailKey as error:
            fail(what + error.detail, "key-unknown", 1)

    def check_consistency(self, previous: Checkpoint | dict[str, Any], key: bytes | None) -> int:
        """Check the previous checkpoint and the proof that the export's tree extends it.

        ``key`` verifies the previous checkpoint; None: the key set's key for it."""
        try:
            old = previous if isinstance(previous, Checkpoint) else Checkpoint.from_json(previous)
            if key is None:
                key = self.published_key(old, "previous checkpoint: ")
            verify_checkpoint(old, key)
        except (SignatureInvalid, CheckpointFormatError) as error:
            fail(f"previous checkpoint: {error.detail}", "consistency", 1)
        new = self.checkpoint
        if old.size > new.size:
            fail(
                f"the previous checkpoint (size {old.size}) is newer than the export's "
                f"(size {new.size})",
                "consistency",
                1,
            )
        proof: list[bytes] = []
        if old.size not in (0, new.size):
            carried = self.consistency if isinstance(self.consistency, dict) else {}
            if carried.get("from_size") != old.size:
                fail(
                    f"the export carries no consistency proof from size {old.size}",
                    "consistency",
                    1,
                )
            proof = proof_hashes(carried.get("proof"), "consistency", 1, None)
        try:
            verify_consistency(old.size, new.size, old.root, new.root, proof)
        except RootMismatch as error:
            raise TrailMismatchError(
                f"checkpoints of sizes {old.size} and {new.size} are not consistent ({error.what})",
                check="consistency",
                expected=error.expected,
                calculated=error.calculated,
                line=1,
            ) from None
        except ProofError as error:
            fail(error.detail, "consistency", 1)
        return old.size


class EntryWalker:
    """Entry-by-entry checks, then the manifest."""

    def __init__(self, header: HeaderCheck) -> None:
        self.h = header
        self.count = 0
        self.last_index: int | None = None
        self.chains: dict[str, bytes] = {}
        #: leaf index of each chain's last entry so far
        self.chain_last: dict[str, int] = {}
        self.digest = hashlib.sha256()
        # proofs of increasing leaves share their upper paths: consecutive entries (a whole
        # log, a time window) cost O(1) hashes each instead of O(log n)
        self.proofs = InclusionVerifier(header.checkpoint.size, header.checkpoint.root)
        self.proof_reader = ProofReader()

    def entry(self, obj: dict[str, Any], line: int, raw: bytes) -> None:
        """Check one entry line: ``obj`` is its parsed form, ``raw`` its exact bytes
        followed by one LF (what the manifest's ``entries_sha256`` hashes)."""
        h = self.h
        index = obj.get("leaf_index")
        if obj.keys() != ENTRY_KEYS or not is_count(index) or not isinstance(obj["entry"], str):
            fail("an entry line is {leaf_index, entry, inclusion_proof}", "entry-format", line)
        if not h.first <= index < h.end:
            fail(f"leaf {index} is outside the range [{h.first}, {h.end})", "range", line, index)
        if self.last_index is not None and index <= self.last_index:
            fail(f"leaf {index} comes after leaf {self.last_index}", "order", line, index)
        expected = h.first if self.last_index is None else self.last_index + 1
        if h.kind == "log" and index != expected:
            fail(
                f"expected leaf {expected}, found leaf {index}: missing or moved",
                "gap",
                line,
                index,
            )
        text: str = obj["entry"]
        data = entry_bytes(text)
        entry = parse_entry(text, line, index, data)
        key = self.entry_chain_key(entry, line, index)
        calculated = entry_leaf_hash(text, line, index, data)
        proof = self.proof_reader.read(obj["inclusion_proof"], index, line)
        try:
            self.proofs.verify(calculated, index, proof)
        except RootMismatch as error:
            raise TrailMismatchError(
                "the entry is not in the checkpoint's tree",
                check="inclusion",
                expected=error.expected,
                calculated=error.calculated,
                line=line,
                leaf_index=index,
            ) from None
        except ProofError as error:
            fail(error.detail, "inclusion", line, index)
        self._check_link(entry, key, line, index)
        self._check_time(entry, line, index)
        if key not in self.chains:
            self.first_of_chain(key, entry, line, index)
        self.chains[key] = calculated
        self.chain_last[key] = index
        self.last_index = index
        self.count += 1
        # the manifest signs the exact bytes: a reformatted line fails even if equivalent
        self.digest.update(raw)

    def first_of_chain(self, key: str, entry: dict[str, Any], line: int, index: int) -> None:
        """A chain's first entry in the export: what completeness asks of it."""
        self.h.completeness.first_of_chain(key, entry, line, index)

    def _check_time(self, entry: dict[str, Any], line: int, index: int) -> None:
        at, h = entry.get("at"), self.h
        if h.since is None and h.until is None:
            return
        if not (isinstance(at, str) and INSTANT.fullmatch(at)):
            fail("the entry's time is not an instant", "entry-format", line, index)
        if (h.since is not None and at < h.since) or (h.until is not None and at >= h.until):
            fail(f"the entry is dated {at}, outside the window", "window", line, index)

    def entry_chain_key(self, entry: dict[str, Any], line: int, index: int) -> str:
        """The chain of the query an entry belongs to; a refusal if it is of none."""
        q, actor = self.h.query, entry.get("actor") or {}
        if not isinstance(actor, dict):
            fail("the entry's actor is not an object", "entry-format", line, index)
        if self.h.kind == "space":
            if entry.get("space_id") != q.get("space_id"):
                fail("the entry is not of the queried patient's space", "query", line, index)
            return str(q["space_id"])
        if self.h.kind == "actor":
            if actor.get("id") != q.get("actor_id") or (
                q.get("actor_role") and actor.get("role") != q["actor_role"]
            ):
                fail("the entry is not of the queried actor", "query", line, index)
            return f"{actor.get('role')}:{actor.get('id')}"
        return "log"

    def _check_link(self, entry: dict[str, Any], key: str, line: int, index: int) -> None:
        link = entry.get(self.h.link)
        previous = self.chains.get(key)
        if previous is None:
            # The chain's first entry here: null exactly when the export starts at leaf 0.
            if self.h.first == 0 and link is not None:
                fail(
                    f"{self.h.link} points before the start of the log: entries of this "
                    "chain are missing",
                    "chain",
                    line,
                    index,
                )
            return
        if link != previous.hex():
            raise TrailMismatchError(
                f"{self.h.link} does not point at the previous entry of its chain: an entry "
                "was removed or inserted",
                check="chain",
                expected=previous,
                calculated=bytes.fromhex(link) if is_hash(link) else b"",
                line=line,
                leaf_index=index,
            )

    def finish(self, obj: dict[str, Any], line: int, header_text: str | bytes) -> None:
        """Check the manifest line against everything seen."""
        h = self.h
        manifest, signature = obj.get("manifest"), obj.get("signature")
        if set(obj) != {"manifest", "signature"} or not isinstance(manifest, dict):
            fail("the manifest line is {manifest, signature}", "manifest-format", line)
        try:
            verify_manifest(manifest, decode_b64(signature, 64, "manifest signature"), h.key)
        except (SignatureInvalid, CheckpointFormatError) as error:
            fail(error.detail, "manifest-signature", line)
        stated = {
            "format": h.format,
            "query": h.query,
            "range": {"first": h.first, "end": h.end},
            "checkpoint": {"size": h.checkpoint.size, "root": h.checkpoint.root.hex()},
            "key_id": h.checkpoint.key_id,
        }
        for name, value in stated.items():
            if manifest.get(name) != value:
                fail(f"the manifest's {name} differs from the header's", "manifest", line)
        raw = header_text if isinstance(header_text, bytes) else utf8(header_text)
        header_hash = hashlib.sha256(raw).digest()
        self._same(manifest.get("header_sha256"), header_hash, "the header was altered", line)
        if not manifest.get("count") == h.count == self.count:
            fail(
                f"the manifest says {manifest.get('count')} entries, the header {h.count}, "
                f"the export has {self.count}",
                "count",
                line,
            )
        self._same(
            manifest.get("entries_sha256"),
            self.digest.digest(),
            "the entry lines are not the ones signed",
            line,
        )
        if h.kind == "log" and self.count and self.last_index != h.end - 1:
            fail(f"leaves {self.last_index + 1}..{h.end - 1} are missing", "tail", line)
        for key, last in self.chains.items():
            if h.heads.get(key) != last.hex():
                fail(f"the chain {key} does not end at its stated head", "tail", line)
        h.completeness.finish(self, line)

    @staticmethod
    def _same(stated: Any, calculated: bytes, detail: str, line: int) -> None:
        if stated != calculated.hex():
            raise TrailMismatchError(
                detail,
                check="manifest-hash",
                line=line,
                calculated=calculated,
                expected=bytes.fromhex(stated) if is_hash(stated) else b"",
            )
