"""The checks behind ``vault.trail_verify``: header, entries, manifest; and their errors.

Internal to the verifier (``vault.trail_verify`` is the public face). Pure: standard
library, ``domain.merkle`` and the signature checks of ``keys.checkpoint``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NoReturn

from domain.checkpoint import Checkpoint, CheckpointFormatError, canonical_json, decode_b64
from domain.errors import IntegrityFailure
from domain.merkle import leaf_hash, verify_consistency
from domain.merkle.verify import InclusionVerifier, ProofError, RootMismatch
from keys.checkpoint import SignatureInvalid, verify_checkpoint, verify_manifest

FORMAT = "coffre-trail-export/1"
LINKS = {"log": "prev", "space": "space_prev", "actor": "actor_prev"}
_ENTRY_KEYS = {"leaf_index", "entry", "inclusion_proof"}
_decode = json.JSONDecoder().raw_decode


class TrailVerificationError(IntegrityFailure):
    """An export failed verification at ``line`` (leaf ``leaf_index``): ``check`` says what."""

    code = "trail-verification-failed"

    def __init__(
        self, detail: str, *, check: str, line: int | None = None, leaf_index: int | None = None
    ) -> None:
        where = f"line {line}" if line is not None else "export"
        if leaf_index is not None:
            where += f" (leaf {leaf_index})"
        super().__init__(f"{where}: {check}: {detail}")
        self.check = check
        self.line = line
        self.leaf_index = leaf_index


class TrailMismatchError(TrailVerificationError):
    """A hash, root or key in the export differs from the one it must equal."""

    code = "trail-mismatch"

    def __init__(
        self,
        detail: str,
        *,
        check: str,
        expected: bytes,
        calculated: bytes,
        line: int | None = None,
        leaf_index: int | None = None,
    ) -> None:
        super().__init__(
            f"{detail} (expected {expected.hex()}, calculated {calculated.hex()})",
            check=check,
            line=line,
            leaf_index=leaf_index,
        )
        self.expected = expected
        self.calculated = calculated


def fail(detail: str, check: str, line: int | None = None, leaf: int | None = None) -> NoReturn:
    """Raise ``TrailVerificationError`` for ``check`` at ``line`` (leaf ``leaf``)."""
    raise TrailVerificationError(detail, check=check, line=line, leaf_index=leaf)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class HeaderCheck:
    """The parsed, checked first line."""

    def __init__(self, header: dict[str, Any], public_key: bytes | None) -> None:
        if header.get("format") != FORMAT:
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
        try:
            verify_checkpoint(self.checkpoint, self.key)
        except (SignatureInvalid, CheckpointFormatError) as error:
            fail(error.detail, "checkpoint-signature", 1)
        query, span, chain = header.get("query"), header.get("range"), header.get("chain")
        if not (isinstance(query, dict) and isinstance(span, dict) and isinstance(chain, dict)):
            fail("query, range and chain are objects", "format", 1)
        self.query, self.first, self.end = query, span.get("first"), span.get("end")
        if not (
            _int(self.first) and _int(self.end) and self.first <= self.end <= self.checkpoint.size
        ):
            fail("range is not a slice of the checkpoint's tree", "range", 1)
        self.kind = (
            "space" if query.get("space_id") else "actor" if query.get("actor_id") else "log"
        )
        self.link, self.heads = LINKS[self.kind], chain.get("heads")
        if chain.get("kind") != self.kind or chain.get("link") != self.link:
            fail(f"a {self.kind} query is chained by {self.link}", "format", 1)
        if not isinstance(self.heads, dict) or not _int(header.get("count")):
            fail("chain heads and count are missing", "format", 1)
        self.count: int = header["count"]
        self.consistency = header.get("consistency")

    def check_consistency(self, previous: Checkpoint | dict[str, Any], key: bytes) -> int:
        """Check the previous checkpoint and the proof that the export's tree extends it."""
        try:
            old = previous if isinstance(previous, Checkpoint) else Checkpoint.from_json(previous)
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
            proof = _hashes(carried.get("proof"), "consistency", 1, None)
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


def _hashes(value: Any, check: str, line: int, leaf: int | None) -> list[bytes]:
    if not isinstance(value, list):
        fail("a proof is a list of hex hashes", check, line, leaf)
    try:
        return [bytes.fromhex(h) for h in value]
    except (TypeError, ValueError):  # TypeError: not a string
        fail("a proof is a list of hex hashes", check, line, leaf)


class EntryWalker:
    """Entry-by-entry checks, then the manifest."""

    def __init__(self, header: HeaderCheck) -> None:
        self.h = header
        self.count = 0
        self.last_index: int | None = None
        self.chains: dict[str, bytes] = {}
        self.digest = hashlib.sha256()
        # proofs of increasing leaves share their upper paths: consecutive entries (a whole
        # log, a time window) cost O(1) hashes each instead of O(log n)
        self.proofs = InclusionVerifier(header.checkpoint.size, header.checkpoint.root)

    def entry(self, obj: dict[str, Any], line: int, raw: bytes) -> None:
        """Check one entry line: ``obj`` is its parsed form, ``raw`` its exact bytes
        followed by one LF (what the manifest's ``entries_sha256`` hashes)."""
        h = self.h
        index = obj.get("leaf_index")
        if obj.keys() != _ENTRY_KEYS or not _int(index) or not isinstance(obj["entry"], str):
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
        try:
            # raw_decode, not loads: text around the value fails the canonical check anyway
            entry = _decode(text)[0]
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or canonical_json(entry) != text:
            fail("the entry is not canonical JSON", "entry-format", line, index)
        if entry.get("leaf_index") != index:
            fail(f"the entry says leaf {entry.get('leaf_index')}", "entry-format", line, index)
        key = self._chain_key(entry, line, index)
        calculated = leaf_hash(text.encode("utf-8"))
        proof = _hashes(obj["inclusion_proof"], "inclusion", line, index)
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
        self.chains[key] = calculated
        self.last_index = index
        self.count += 1
        # the manifest signs the exact bytes: a reformatted line fails even if equivalent
        self.digest.update(raw)

    def _chain_key(self, entry: dict[str, Any], line: int, index: int) -> str:
        q, actor = self.h.query, entry.get("actor") or {}
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
                calculated=bytes.fromhex(link) if _is_hash(link) else b"",
                line=line,
                leaf_index=index,
            )

    def finish(self, obj: dict[str, Any], line: int, header_text: str) -> None:
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
            "format": FORMAT,
            "query": h.query,
            "range": {"first": h.first, "end": h.end},
            "checkpoint": {"size": h.checkpoint.size, "root": h.checkpoint.root.hex()},
            "key_id": h.checkpoint.key_id,
        }
        for name, value in stated.items():
            if manifest.get(name) != value:
                fail(f"the manifest's {name} differs from the header's", "manifest", line)
        header_hash = hashlib.sha256(header_text.encode("utf-8")).digest()
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

    @staticmethod
    def _same(stated: Any, calculated: bytes, detail: str, line: int) -> None:
        if stated != calculated.hex():
            raise TrailMismatchError(
                detail,
                check="manifest-hash",
                line=line,
                calculated=calculated,
                expected=bytes.fromhex(stated) if _is_hash(stated) else b"",
            )


def _is_hash(value: Any) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )
