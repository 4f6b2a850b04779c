"""Completeness of a format-2 export: its slice and chains pinned to its checkpoint.

Internal to the verifier (``client.trail_verify`` is the public face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from client.trail_format import (
    CHAIN_KEYS,
    COMPLETENESS_KEYS,
    ENTRY_KEYS,
    LEAF_LINKS,
    LEGACY_FORMAT,
    TrailMismatchError,
    entry_at,
    entry_leaf_hash,
    fail,
    is_count,
    is_hash,
    parse_entry,
    proof_hashes,
)
from wire.errors import IntegrityFailure
from wire.merkle import verify_inclusion
from wire.merkle.heads import BUCKETS, as_heads, bucket_of, root_from_bucket
from wire.merkle.verify import ProofError, RootMismatch
from wire.values import Role

if TYPE_CHECKING:
    from client.trail_checks import EntryWalker, HeaderCheck


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
        if not isinstance(value, dict) or value.keys() != COMPLETENESS_KEYS:
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
            elif not is_hash(heads):
                fail("the anchor carries no chain-heads root", "completeness", 1, index)
            else:
                self.root = bytes.fromhex(heads)
        self._chains(value["chains"])

    def _proved(self, value: Any, what: str) -> tuple[int, dict[str, Any], bytes]:
        """An entry line carried in the header: checked against the checkpoint."""
        if not isinstance(value, dict) or value.keys() != ENTRY_KEYS:
            fail(f"{what} is an entry line", "completeness", 1)
        index, text = value["leaf_index"], value["entry"]
        if not is_count(index) or not isinstance(text, str):
            fail(f"{what} is an entry line", "completeness", 1)
        entry = parse_entry(text, 1, index)
        calculated = entry_leaf_hash(text, 1, index)
        proof = proof_hashes(value["inclusion_proof"], "completeness", 1, index)
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
            if index != h.first - 1 or not entry_at(entry, 1, index) < str(h.since):
                fail(
                    f"leaf {h.first - 1} must be dated before {h.since}: the window "
                    "does not start where it says",
                    "window",
                    1,
                    index,
                )
        if want_after:
            index, entry, _ = self._proved(after, "the leaf after the window")
            if index != h.end or not entry_at(entry, 1, index) >= str(h.until):
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
        if not isinstance(value, dict) or value.keys() != CHAIN_KEYS:
            fail(f"the chain {key} is {{bucket, heads, proof, tail}}", "completeness", 1)
        bucket, heads, tail = value["bucket"], as_heads(value["heads"]), value["tail"]
        if not is_count(bucket) or bucket >= BUCKETS or bucket != bucket_of(key) or heads is None:
            fail(f"the chain {key}'s bucket is malformed", "completeness", 1)
        if not isinstance(tail, list):
            fail(f"the chain {key}'s tail is a list", "completeness", 1)
        proof = proof_hashes(value["proof"], "completeness", 1, None)
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
        if previous is not None and not (is_count(previous) and previous < h.first):
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
