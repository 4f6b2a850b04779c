"""The trail export's format as the verifier reads it: its constants, its errors, and
the parsing every check shares (entries, hashes, instants).

Internal to the verifier (``client.trail_verify`` is the public face). Pure: standard
library, ``wire.merkle`` and ``wire.checkpoint``.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from wire.canonical_fast import UNDECIDED, canonical_value
from wire.checkpoint import (
    canonical_json,
)
from wire.errors import IntegrityFailure
from wire.merkle import leaf_hash

FORMAT = "coffre-trail-export/2"
#: read for whole-log exports only: it carries nothing that pins a subset's completeness
LEGACY_FORMAT = "coffre-trail-export/1"
LINKS = {"log": "prev", "space": "space_prev", "actor": "actor_prev"}
#: the previous leaf *index* of the same chain, in format-2 entries
LEAF_LINKS = {"space": "space_prev_leaf", "actor": "actor_prev_leaf"}
ENTRY_KEYS = {"leaf_index", "entry", "inclusion_proof"}
COMPLETENESS_KEYS = {"anchor", "before", "after", "chains"}
CHAIN_KEYS = {"bucket", "heads", "proof", "tail"}
#: ``format_instant``'s fixed-width form: such texts sort as the instants they name
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
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


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def proof_hashes(value: Any, check: str, line: int, leaf: int | None) -> list[bytes]:
    # One hex decoding for the whole proof (~16 hashes an entry in a whole-log export),
    # not a pattern match and a decoding per hash: joined by spaces, the proof must be
    # exactly its bytes' lowercase hex with a space every 32 bytes, one group per
    # element (so no element holds a space); anything else takes the checks below.
    if type(value) is list and value:
        try:
            joined = " ".join(value)
            raw = bytes.fromhex(joined)
        except (TypeError, ValueError):  # not all strings, or not hex
            raw = b""
        if len(raw) == 32 * len(value) and raw.hex(" ", 32) == joined:
            return [raw[i : i + 32] for i in range(0, len(raw), 32)]
    if not isinstance(value, list):
        fail("a proof is a list of hex hashes", check, line, leaf)
    if not all(isinstance(h, str) and is_hash(h) for h in value):
        fail("a proof is a list of hex hashes", check, line, leaf)
    return [bytes.fromhex(h) for h in value]


class ProofReader:
    """``proof_hashes(value, "inclusion", line, index)`` for the proofs of increasing
    leaves, as an export lists them: consecutive leaves' proofs share all their upper
    hashes, so the hex strings equal to the previous proof's (already checked and
    decoded) are compared, not decoded again. Same result, same refusals."""

    __slots__ = ("_hashes", "_hex", "_index")

    def __init__(self) -> None:
        self._index = -1
        self._hex: list[Any] = []
        self._hashes: list[bytes] = []

    def read(self, value: Any, index: int, line: int) -> list[bytes]:
        """The proof's hashes; a refusal as ``proof_hashes``'."""
        last = self._index
        hashes: list[bytes] | None = None
        if 0 <= last < index and type(value) is list:
            # as wire.merkle.verify.InclusionVerifier: below the two leaves' common
            # ancestor (level a) the proofs differ; above it they are the same hashes
            a = (last ^ index).bit_length() - 1
            b = len(value) - len(self._hex) + a
            if b >= 0 and value[b + 1 :] == self._hex[a + 1 :]:
                shared = self._hashes[a + 1 :]
                hashes = proof_hashes(value[: b + 1], "inclusion", line, index) + shared
        if hashes is None:
            hashes = proof_hashes(value, "inclusion", line, index)
        self._index, self._hex, self._hashes = index, value, hashes
        return hashes


def utf8(text: str) -> bytes:
    # a lone surrogate (from a JSON escape) has no UTF-8 form; hash what was given
    return text.encode("utf-8", "surrogatepass")


def parse_entry(text: str, line: int, index: int, data: bytes | None = None) -> dict[str, Any]:
    """An entry's canonical text as an object naming ``index``, or a refusal.

    ``data``: the text's UTF-8 bytes when it has them (no lone surrogate): then a C
    codec may prove the text canonical (``wire.canonical_fast``); whenever it cannot,
    the standard library decides, as it always did."""
    entry = UNDECIDED if data is None else canonical_value(text, data)
    if type(entry) is not dict:
        entry = _parse_exact(text, line, index)
    if entry.get("leaf_index") != index or type(entry.get("leaf_index")) is not int:
        fail(f"the entry says leaf {entry.get('leaf_index')!r}", "entry-format", line, index)
    return entry


def _parse_exact(text: str, line: int, index: int) -> dict[str, Any]:
    """``parse_entry``'s canonical check by the standard library alone."""
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
    return entry


def entry_bytes(text: str) -> bytes | None:
    """An entry's UTF-8 bytes, or None if it holds a lone surrogate (which
    ``entry_leaf_hash`` refuses, after the canonical check)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def entry_leaf_hash(text: str, line: int, index: int | None, data: bytes | None = None) -> bytes:
    """The leaf hash of an entry's text (``data``: its UTF-8 bytes, if already made)."""
    if data is not None:
        return leaf_hash(data)
    try:
        return leaf_hash(text.encode("utf-8"))
    except UnicodeEncodeError:
        fail("the entry is not UTF-8 text (a lone surrogate)", "entry-format", line, index)


def entry_at(entry: dict[str, Any], line: int, index: int) -> str:
    at = entry.get("at")
    if not (isinstance(at, str) and INSTANT.fullmatch(at)):
        fail("the entry's time is not an instant", "entry-format", line, index)
    return at


#: 64 lowercase hex digits (ASCII only: [0-9] is a literal range, not \\d)
_HEX_HASH = re.compile("[0-9a-f]{64}")


def is_hash(value: Any) -> bool:
    # A compiled pattern, not a loop over characters: a whole-log export checks ~16
    # proof hashes per entry, and the loop was 70 % of the verifier's time.
    return isinstance(value, str) and _HEX_HASH.fullmatch(value) is not None
