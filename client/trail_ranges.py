"""Verifying a large export's entries in parallel ranges of the file, with the very
verdicts of the one-pass walk (``client.trail_checks.EntryWalker``).

Internal to the verifier (``client.trail_verify`` is the public face). Pure: standard
library (``concurrent.futures`` processes) and the verifier's own checks.

The entry lines between the header and the last line are cut into byte ranges at line
boundaries; each worker process rebuilds the header's state and walks its range with a
``RangeWalker``: every check of ``EntryWalker.entry`` (format, range, canonical text,
leaf hash, inclusion proof, time, query) except those that need what lies before the
range: the first entry's order and gap, and each chain's first link in the range. Those
are checked here, in file order, from each range's summary; the digest of the entry
lines, which the manifest signs, is one SHA-256 of the bytes between header and
manifest, taken here while the workers run. The result is an ``EntryWalker`` in the
state the one-pass walk would have reached, and the manifest is checked by it as usual.

Exactness is kept by construction: on *any* failure, in a worker or in the stitching,
``verify_ranges`` returns None and the caller verifies the whole file in one pass,
which names the first failure exactly as before. A failing export costs a second pass;
a valid one is verified by every core.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from client.trail_checks import EntryWalker, HeaderCheck
from client.trail_format import TrailVerificationError
from wire.canonical_fast import loads
from wire.trail_keys import TrailKeySet

#: files smaller than this are walked in one pass: starting the workers costs ~50 ms of
#: CPU (measured: 5,000 entries, 9 MiB, took longer in ranges on a loaded 2-core machine)
MIN_BYTES = 32 * 1024 * 1024
#: worker processes; None: one per core (at most 8)
WORKERS: int | None = None
#: a range is at least this large, so each worker has a real share to verify
MIN_RANGE = 2 * 1024 * 1024
_BLOCK = 1 << 20


@dataclass
class RangeSummary:
    """What one range proved, and what the stitching still has to check."""

    lines: int = 0
    count: int = 0
    first_index: int | None = None
    last_index: int | None = None
    #: per chain, in order of first appearance: (link of its first entry in the range,
    #: that entry when the completeness check of a chain's start may need it)
    firsts: dict[str, tuple[Any, dict[str, Any] | None]] = field(default_factory=dict)
    #: per chain: the leaf hash and index of its last entry in the range
    lasts: dict[str, tuple[bytes, int]] = field(default_factory=dict)


class RangeWalker(EntryWalker):
    """``EntryWalker`` over one range: the checks that need earlier ranges are left to
    the stitching, recorded in ``summary``."""

    def __init__(self, header: HeaderCheck) -> None:
        super().__init__(header)
        self.summary = RangeSummary()
        self.digest = _NoDigest()  # the caller hashes the entry lines in one go

    def entry(self, obj: dict[str, Any], line: int, raw: bytes) -> None:
        """As ``EntryWalker.entry``; the range's first entry is not ordered here."""
        first = self.last_index is None
        if first:
            index = obj.get("leaf_index")
            # order and gap come from the previous range: let the first entry through
            self.last_index = index - 1 if type(index) is int and index > 0 else None
        super().entry(obj, line, raw)
        if first:
            self.summary.first_index = self.last_index

    def _check_link(self, entry: dict[str, Any], key: str, line: int, index: int) -> None:
        if key not in self.chains:  # this chain's first entry in the range: stitched later
            keep = entry if self.h.first > 0 and self.h.kind != "log" else None
            self.summary.firsts[key] = (entry.get(self.h.link), keep)
            return
        super()._check_link(entry, key, line, index)

    def first_of_chain(self, key: str, entry: dict[str, Any], line: int, index: int) -> None:
        """Only the stitching knows whether a chain starts here."""


class _NoDigest:
    def update(self, _data: bytes) -> None:
        pass


def _walk_range(
    path: str, start: int, end: int, header_text: str, key: bytes | None, keys: Any
) -> RangeSummary | None:
    """A worker: verify the entry lines in bytes [start, end) of ``path``."""
    try:
        state = HeaderCheck(loads(header_text), key, keys)
        walker = RangeWalker(state)
        with open(path, "rb") as handle:
            handle.seek(start)
            at = start
            while at < end:
                raw = handle.readline()
                at += len(raw)
                obj = loads(raw.decode("utf-8"))
                if type(obj) is not dict or "manifest" in obj or not raw.endswith(b"\n"):
                    return None
                walker.summary.lines += 1
                walker.entry(obj, 0, raw)
    except (TrailVerificationError, ValueError, TypeError, RecursionError, OSError):
        return None  # the one-pass walk finds and names it
    summary = walker.summary
    summary.count, summary.last_index = walker.count, walker.last_index
    summary.lasts = {k: (h, walker.chain_last[k]) for k, h in walker.chains.items()}
    return summary


def _cuts(path: str, start: int, end: int, parts: int) -> list[int]:
    """Offsets of line starts cutting [start, end) into about ``parts`` ranges."""
    cuts = [start]
    with open(path, "rb") as handle:
        for k in range(1, parts):
            handle.seek(start + (end - start) * k // parts - 1)
            handle.readline()  # to the start of the next line
            at = handle.tell()
            if cuts[-1] < at < end:
                cuts.append(at)
    return [*cuts, end]


def _last_line_start(path: str, size: int) -> int:
    """Where the file's last line starts (the manifest's place)."""
    with open(path, "rb") as handle:
        at = size
        tail = b""
        while at > 0:
            step = min(_BLOCK, at)
            at -= step
            handle.seek(at)
            tail = handle.read(step) + tail
            # the last LF that is not the file's final byte ends the line before
            newline = tail.rfind(b"\n", 0, len(tail) - 1)
            if newline >= 0:
                return at + newline + 1
    return 0


def _context() -> Any:
    # imported here: multiprocessing loads ``socket`` (for its pipes), and importing the
    # verifier loads nothing of the network (tests/trail/test_trail_export.py)
    import multiprocessing

    # fork is cheap and safe in a single-threaded process; elsewhere start clean workers
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    return multiprocessing.get_context(method)


def _hash_range(path: str, start: int, end: int) -> Any:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            block = handle.read(min(_BLOCK, left))
            if not block:
                break
            digest.update(block)
            left -= len(block)
    return digest


def verify_ranges(
    path: str | os.PathLike[str],
    header_bytes: int,
    state: HeaderCheck,
    header_text: str,
    public_key: bytes | None,
    key_set: TrailKeySet | None,
) -> tuple[EntryWalker, int, int] | None:
    """Verify the entry lines of the export at ``path`` in parallel ranges.

    ``header_bytes``: the length of the header line with its LF. Returns the walker in
    the state the one-pass walk would end in, the manifest line's number and its byte
    offset; None when the file is small, the machine has one core, or anything failed
    (the caller then walks the file in one pass, which names the failure)."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    workers = WORKERS or min(os.cpu_count() or 1, 8)
    if workers < 2 or size < MIN_BYTES:
        return None
    manifest_at = _last_line_start(path, size)
    if manifest_at <= header_bytes:
        return None
    parts = max(1, min(workers, (manifest_at - header_bytes) // MIN_RANGE))
    if parts < 2:
        return None
    cuts = _cuts(path, header_bytes, manifest_at, parts)
    from concurrent.futures import ProcessPoolExecutor  # as _context: only when used
    from concurrent.futures.process import BrokenProcessPool
    from pickle import PicklingError

    try:
        with ProcessPoolExecutor(max_workers=len(cuts) - 1, mp_context=_context()) as pool:
            futures = [
                pool.submit(_walk_range, path, a, b, header_text, public_key, key_set)
                for a, b in itertools.pairwise(cuts)
            ]
            digest = _hash_range(path, header_bytes, manifest_at)  # meanwhile, here
            summaries = [f.result() for f in futures]
    except (OSError, BrokenProcessPool, PicklingError):
        return None  # no workers to be had (limits, a killed worker): one pass decides
    walker = EntryWalker(state)
    lines = 1
    for summary in summaries:
        if summary is None or not _stitch(walker, summary):
            return None
        lines += summary.lines
    walker.digest = digest
    return walker, lines + 1, manifest_at


def _stitch(walker: EntryWalker, summary: RangeSummary) -> bool:
    """Check a range's first entry and its chains' first links against what came
    before it; carry the walk's state past the range. False: anything fails."""
    h = walker.h
    first = summary.first_index
    if first is None:  # an empty range: nothing to carry
        return summary.count == 0
    last = walker.last_index
    if last is not None and first <= last:
        return False
    expected = h.first if last is None else last + 1
    if h.kind == "log" and first != expected:
        return False
    try:
        for key, (link, entry) in summary.firsts.items():
            previous = walker.chains.get(key)
            if previous is None:
                if h.first == 0 and link is not None:
                    return False
                if entry is not None:
                    h.completeness.first_of_chain(key, entry, 0, -1)
            elif link != previous.hex():
                return False
    except TrailVerificationError:
        return False
    for key, (leaf, index) in summary.lasts.items():
        walker.chains[key] = leaf
        walker.chain_last[key] = index
    walker.count += summary.count
    walker.last_index = summary.last_index
    return True


def verify_in_ranges(
    path: str | os.PathLike[str],
    header_raw: bytes,
    state: HeaderCheck,
    public_key: bytes | None,
    key_set: TrailKeySet | None,
) -> EntryWalker | None:
    """A large export's entries checked by every core, then its manifest (by
    ``EntryWalker.finish``, whose failure is the export's); None if the ranges cannot
    conclude: the one-pass walk then decides."""
    header_text = header_raw.decode("utf-8")
    walked = verify_ranges(path, len(header_raw), state, header_text, public_key, key_set)
    if walked is None:
        return None
    walker, number, offset = walked
    with open(path, "rb") as handle:
        handle.seek(offset)
        raw = handle.read()
    try:
        obj = loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if type(obj) is not dict or "manifest" not in obj:
        return None
    # the manifest is the last line: the one-pass walk would check it in this very state
    walker.finish(obj, number, header_raw[:-1])
    return walker
