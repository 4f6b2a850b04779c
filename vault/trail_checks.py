"""The checks behind ``vault.trail_verify``: header, entries, manifest; and their errors.

Internal to the verifier (``vault.trail_verify`` is the public face). Pure: standard
library, ``wire.merkle`` and the signature checks of ``keys.checkpoint``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NoReturn

from wire.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignatureInvalid,
    canonical_json,
    decode_b64,
    verify_checkpoint,
    verify_manifest,
)
from wire.errors import IntegrityFailure
from wire.merkle import leaf_hash, verify_consistency, verify_inclusion
from wire.merkle.heads import BUCKETS, as_heads, bucket_of, root_from_bucket
from wire.merkle.verify import InclusionVerifier, ProofError, RootMismatch
from wire.values import Role

FORMAT = "coffre-trail-export/2"
#: read for whole-log exports only: it carries nothing that pins a subset's completeness
LEGACY_FORMAT = "coffre-trail-export/1"
LINKS = {"log": "prev", "space": "space_prev", "actor": "actor_prev"}
#: the previous leaf *index* of the same chain, in format-2 entries
LEAF_LINKS = {"space": "space_prev_leaf", "actor": "actor_prev_leaf"}
_ENTRY_KEYS = {"leaf_index", "entry", "inclusion_proof"}
_COMPLETENESS_KEYS = {"anchor", "before", "after", "chains"}
_CHAIN_KEYS = {"bucket", "heads", "proof", "tail"}
#: ``format_instant``'s fixed-width form: such texts sort as the instants they name
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
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
        self._check_range()
        self.completeness = Completeness(self, header.get("completeness"))

    def _check_range(self) -> None:
        """A query without a bound covers the log from its start / up to the checkpoint;
        a format-1 export proves no more than a whole log."""
        since, until = self.query.get("since"), self.query.get("until")
        for name, value in (("since", since), ("until", until)):
            if value is not None and not (isinstance(value, str) and _INSTANT.fullmatch(value)):
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
    if not all(isinstance(h, str) and _is_hash(h) for h in value):
        fail("a proof is a list of hex hashes", check, line, leaf)
    return [bytes.fromhex(h) for h in value]


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
        entry = parse_entry(text, line, index)
        key = self.entry_chain_key(entry, line, index)
        calculated = _leaf_hash(text, line, index)
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
        self._check_time(entry, line, index)
        if key not in self.chains:
            self.h.completeness.first_of_chain(key, entry, line, index)
        self.chains[key] = calculated
        self.chain_last[key] = index
        self.last_index = index
        self.count += 1
        # the manifest signs the exact bytes: a reformatted line fails even if equivalent
        self.digest.update(raw)

    def _check_time(self, entry: dict[str, Any], line: int, index: int) -> None:
        at, h = entry.get("at"), self.h
        if h.since is None and h.until is None:
            return
        if not (isinstance(at, str) and _INSTANT.fullmatch(at)):
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
                calculated=bytes.fromhex(link) if _is_hash(link) else b"",
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
        raw = header_text if isinstance(header_text, bytes) else _utf8(header_text)
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
                expected=bytes.fromhex(stated) if _is_hash(stated) else b"",
            )


def _utf8(text: str) -> bytes:
    # a lone surrogate (from a JSON escape) has no UTF-8 form; hash what was given
    return text.encode("utf-8", "surrogatepass")


def parse_entry(text: str, line: int, index: int) -> dict[str, Any]:
    """An entry's canonical text as an object naming ``index``, or a refusal."""
    try:
        # raw_decode, not loads: text around the value fails the canonical check anyway
        entry = _decode(text)[0]
    except (ValueError, RecursionError):
        entry = None
    if not isinstance(entry, dict):
        fail("the entry is not canonical JSON", "entry-format", line, index)
    try:
        canonical = canonical_json(entry)
    except (ValueError, RecursionError):
        canonical = None
    if canonical != text:
        fail("the entry is not canonical JSON", "entry-format", line, index)
    if entry.get("leaf_index") != index or type(entry.get("leaf_index")) is not int:
        fail(f"the entry says leaf {entry.get('leaf_index')!r}", "entry-format", line, index)
    return entry


def _leaf_hash(text: str, line: int, index: int | None) -> bytes:
    try:
        return leaf_hash(text.encode("utf-8"))
    except UnicodeEncodeError:
        fail("the entry is not UTF-8 text (a lone surrogate)", "entry-format", line, index)


def _at(entry: dict[str, Any], line: int, index: int) -> str:
    at = entry.get("at")
    if not (isinstance(at, str) and _INSTANT.fullmatch(at)):
        fail("the entry's time is not an instant", "entry-format", line, index)
    return at


class Completeness:
    """What pins a format-2 export's slice and chains to its checkpoint.

    ``anchor`` is the checkpoint's last leaf: its ``heads`` root is the chain-heads map
    (``wire.merkle.heads``) when the checkpoint was made, so each chain of the query
    must end exactly where the map says (its ``tail`` bridging a time window's end to
    that head). ``before`` / ``after`` are the leaves just outside a time window.
    """

    def __init__(self, header: HeaderCheck, value: Any) -> None:
        self.h = header
        self.notes: list[str] = []
        self.root: bytes | None = None
        self.chains: dict[str, tuple[int | None, list[tuple[int, dict[str, Any], bytes]]]] = {}
        if header.format == LEGACY_FORMAT:
            if value is not None:
                fail(f"a {LEGACY_FORMAT} export carries no completeness", "format", 1)
            return
        if not isinstance(value, dict) or value.keys() != _COMPLETENESS_KEYS:
            fail("completeness is {anchor, before, after, chains}", "completeness", 1)
        size = header.checkpoint.size
        self._window(value.get("before"), value.get("after"))
        anchor = value["anchor"]
        if size == 0:
            if anchor is not None:
                fail("an empty tree has no last leaf", "completeness", 1)
        else:
            index, entry, _ = self._proved(anchor, "anchor")
            if index != size - 1:
                fail(f"the anchor is leaf {index}, not the last leaf {size - 1}", "completeness", 1)
            heads = entry.get("heads")
            if entry.get("v") == 1 and heads is None:
                self.notes.append(
                    "completeness is NOT pinned: the checkpoint's last leaf predates "
                    "format 2 (a trail begun by an earlier version that has not grown since)"
                )
            elif not _is_hash(heads):
                fail("the anchor carries no chain-heads root", "completeness", 1, index)
            else:
                self.root = bytes.fromhex(heads)
        self._chains(value["chains"])

    def _proved(self, value: Any, what: str) -> tuple[int, dict[str, Any], bytes]:
        """An entry line carried in the header: checked against the checkpoint."""
        if not isinstance(value, dict) or value.keys() != _ENTRY_KEYS:
            fail(f"{what} is an entry line", "completeness", 1)
        index, text = value["leaf_index"], value["entry"]
        if not _int(index) or not isinstance(text, str):
            fail(f"{what} is an entry line", "completeness", 1)
        entry = parse_entry(text, 1, index)
        calculated = _leaf_hash(text, 1, index)
        proof = _hashes(value["inclusion_proof"], "completeness", 1, index)
        checkpoint = self.h.checkpoint
        try:
            verify_inclusion(calculated, index, checkpoint.size, proof, checkpoint.root)
        except RootMismatch as error:
            raise TrailMismatchError(
                f"{what} is not in the checkpoint's tree",
                check="completeness",
                expected=error.expected,
                calculated=error.calculated,
                line=1,
                leaf_index=index,
            ) from None
        except ProofError as error:
            fail(f"{what}: {error.detail}", "completeness", 1, index)
        return index, entry, calculated

    def _window(self, before: Any, after: Any) -> None:
        h = self.h
        want_before = h.since is not None and h.first > 0
        want_after = h.until is not None and h.end < h.checkpoint.size
        if (before is not None) != want_before or (after is not None) != want_after:
            fail(
                "a time window carries exactly the leaves just outside it",
                "completeness",
                1,
            )
        if want_before:
            index, entry, _ = self._proved(before, "the leaf before the window")
            if index != h.first - 1 or not _at(entry, 1, index) < str(h.since):
                fail(
                    f"leaf {h.first - 1} must be dated before {h.since}: the window "
                    "does not start where it says",
                    "window",
                    1,
                    index,
                )
        if want_after:
            index, entry, _ = self._proved(after, "the leaf after the window")
            if index != h.end or not _at(entry, 1, index) >= str(h.until):
                fail(
                    f"leaf {h.end} must be dated at or after {h.until}: the window does "
                    "not end where it says",
                    "window",
                    1,
                    index,
                )

    def _chains(self, value: Any) -> None:
        h = self.h
        if not isinstance(value, dict):
            fail("completeness.chains is an object", "completeness", 1)
        wanted = set(chain_keys(h.kind, h.query))
        if set(value) != wanted:
            fail(
                f"completeness names the chains {sorted(value)}, the query {sorted(wanted)}",
                "completeness",
                1,
            )
        for key in sorted(wanted):
            self.chains[key] = self._chain(key, value[key])

    def _chain(
        self, key: str, value: Any
    ) -> tuple[int | None, list[tuple[int, dict[str, Any], bytes]]]:
        if not isinstance(value, dict) or value.keys() != _CHAIN_KEYS:
            fail(f"the chain {key} is {{bucket, heads, proof, tail}}", "completeness", 1)
        bucket, heads, tail = value["bucket"], as_heads(value["heads"]), value["tail"]
        if not _int(bucket) or bucket >= BUCKETS or bucket != bucket_of(key) or heads is None:
            fail(f"the chain {key}'s bucket is malformed", "completeness", 1)
        if not isinstance(tail, list):
            fail(f"the chain {key}'s tail is a list", "completeness", 1)
        proof = _hashes(value["proof"], "completeness", 1, None)
        if self.root is not None:
            try:
                calculated = root_from_bucket(bucket, heads, proof)
            except IntegrityFailure as error:
                fail(f"the chain {key}: {error.detail}", "completeness", 1)
            if calculated != self.root:
                raise TrailMismatchError(
                    f"the chain {key}'s head is not the one the checkpoint's map holds",
                    check="completeness",
                    expected=self.root,
                    calculated=calculated,
                    line=1,
                )
        entries = []
        for item in tail:
            index, entry, calculated = self._proved(item, f"the chain {key}'s tail")
            entries.append((index, entry, calculated))
        return heads.get(key), entries

    def first_of_chain(self, key: str, entry: dict[str, Any], line: int, index: int) -> None:
        """A chain's first entry in a window that starts after leaf 0: its previous
        entry must be before the window (or none), else entries were dropped."""
        h = self.h
        if h.format == LEGACY_FORMAT or h.first == 0 or h.kind == "log":
            return
        self._starts_before(entry, key, line, index)

    def _starts_before(self, entry: dict[str, Any], key: str, line: int, index: int) -> None:
        h = self.h
        field = LEAF_LINKS[h.kind]
        if entry.get("v") == 1:
            self._note_once(
                "the start of a chain in this window is NOT pinned: its first entry "
                "predates format 2"
            )
            return
        previous = entry.get(field)
        if previous is not None and not (_int(previous) and previous < h.first):
            fail(
                f"{field} is {previous!r}: entries of the chain {key} inside the window "
                "are missing",
                "completeness",
                line,
                index,
            )

    def _note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def finish(self, walker: EntryWalker, line: int) -> None:
        """Each chain ends where the checkpoint's map says, through its tail."""
        h = self.h
        if h.format == LEGACY_FORMAT:
            return
        for key, (head, tail) in self.chains.items():
            last_index = walker.chain_last.get(key)
            last_hash = walker.chains.get(key)
            for index, entry, calculated in tail:
                if index < h.end or (last_index is not None and index <= last_index):
                    fail(f"the chain {key}'s tail is out of order", "completeness", 1, index)
                if walker.entry_chain_key(entry, 1, index) != key:
                    fail(f"the chain {key}'s tail holds another chain", "completeness", 1, index)
                link = entry.get(h.link)
                if last_hash is not None and link != last_hash.hex():
                    fail(
                        f"the chain {key}'s tail does not follow its last entry: entries "
                        "are missing",
                        "completeness",
                        line,
                        index,
                    )
                if last_hash is None and h.first > 0:
                    self._starts_before(entry, key, 1, index)
                elif last_hash is None and link is not None:
                    fail(
                        f"{h.link} points before the start of the log: entries of the "
                        f"chain {key} are missing",
                        "completeness",
                        line,
                        index,
                    )
                last_index, last_hash = index, calculated
            if self.root is None:
                continue
            if head is None and last_index is not None:
                fail(f"the checkpoint's map holds no entry of {key}", "completeness", line)
            if head is not None and head >= h.first and last_index != head:
                where = "none" if last_index is None else f"leaf {last_index}"
                fail(
                    f"the chain {key} ends at leaf {head} at the checkpoint, the export at "
                    f"{where}: entries are missing",
                    "completeness",
                    line,
                    last_index,
                )
            if head is not None and head < h.first and last_index is not None:
                fail(f"the chain {key} ends before the window", "completeness", line)


def chain_keys(kind: str, query: dict[str, Any]) -> list[str]:
    """The chain keys a query covers (as ``projections.trail_query.chain_keys``)."""
    if kind == "space":
        return [str(query.get("space_id"))]
    if kind == "actor":
        role = query.get("actor_role")
        roles = [role] if role else [r.value for r in Role]
        return [f"{r}:{query.get('actor_id')}" for r in roles]
    return []


def _is_hash(value: Any) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )
