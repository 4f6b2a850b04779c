"""Naive RFC 9162 §2.1 reference, used ONLY to check ``wire.merkle``'s efficient code.

Straight transcriptions of the RFC's recursive definitions (MTH, PATH, PROOF/SUBPROOF),
quadratic where the RFC is, with their own ``hashlib`` calls: nothing here imports
``domain``. Its outputs are themselves pinned to transparency-dev/merkle's published
values in ``test_merkle_known_answers.py``.

The two ``ref_*_verify`` functions recompute roots by walking the *same* recursions over
a proof, so they share no code with ``wire.merkle.verify``'s bit-twiddling loops; the
vector generator uses them to decide each vector's expected outcome. They return
``None`` on success and ``"ProofError"`` or ``"RootMismatch"`` on failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# The standard 8-leaf test tree of RFC 6962 implementations
# (transparency-dev/merkle proof/verify_test.go, ``leaves``).
STANDARD_LEAVES: list[bytes] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_leaf(d: bytes) -> bytes:
    return sha256(b"\x00" + d)


def ref_node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf *data*."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return ref_leaf(d[0])
    k = split_point(n)
    return ref_node(mth(d[:k]), mth(d[k:]))


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]), leaf-to-root order."""
    n = len(d)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m <= n."""
    return subproof(m, d, True)


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split_point(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def complete_subtrees(size: int) -> set[tuple[int, int]]:
    """Every (level, index) whose 2**level leaves all lie in [0, size)."""
    out = set()
    level = 0
    while (1 << level) <= size:
        out.update((level, i) for i in range(size >> level))
        level += 1
    return out


class RefNodes:
    """A ``node(level, index)`` reader backed by ``mth``, refusing incomplete subtrees.

    ``limit`` is the size of the tree being proved: asking for a subtree reaching past
    it is a bug in the code under test, so it fails the test. ``calls`` records every
    request, in order.
    """

    def __init__(self, data: Sequence[bytes], limit: int | None = None) -> None:
        self.data = data
        self.limit = len(data) if limit is None else limit
        self.calls: list[tuple[int, int]] = []

    def __call__(self, level: int, index: int) -> bytes:
        self.calls.append((level, index))
        begin, end = index << level, (index + 1) << level
        assert level >= 0 and index >= 0 and end <= self.limit, (level, index, self.limit)
        return mth(self.data[begin:end])


class _Malformed(Exception):
    pass


def _hashes_ok(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == 32 for h in hashes)


def ref_inclusion_verify(
    leaf_hash: bytes, index: int, size: int, proof_: Sequence[bytes], root: bytes
) -> str | None:
    """Follow PATH's recursion over ``proof_`` (leaf-first) and compare with ``root``."""

    def walk(m: int, n: int, p: list[bytes]) -> bytes:
        if n == 1:
            if p:
                raise _Malformed
            return leaf_hash
        if not p:
            raise _Malformed
        k = split_point(n)
        if m < k:
            return ref_node(walk(m, k, p[:-1]), p[-1])
        return ref_node(p[-1], walk(m - k, n - k, p[:-1]))

    if not (0 <= index < size) or not _hashes_ok(leaf_hash, root, *proof_):
        return "ProofError"
    try:
        got = walk(index, size, list(proof_))
    except _Malformed:
        return "ProofError"
    return None if got == root else "RootMismatch"


def ref_consistency_verify(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof_: Sequence[bytes]
) -> str | None:
    """Follow SUBPROOF's recursion over ``proof_``, rebuilding (old root, new root).

    Coffre's rules at the edges: sizes must not go backwards; an empty old tree must have
    root SHA-256(""), equal sizes need equal roots, and both take an empty proof.
    """

    def walk(m: int, n: int, p: list[bytes], b: bool) -> tuple[bytes, bytes]:
        if m == n:
            if b:
                if p:
                    raise _Malformed
                return old_root, old_root
            if len(p) != 1:
                raise _Malformed
            return p[0], p[0]
        if not p:
            raise _Malformed
        k = split_point(n)
        if m <= k:
            old, new = walk(m, k, p[:-1], b)
            return old, ref_node(new, p[-1])
        old, new = walk(m - k, n - k, p[:-1], False)
        return ref_node(p[-1], old), ref_node(p[-1], new)

    if not (0 <= old_size <= new_size) or not _hashes_ok(old_root, new_root, *proof_):
        return "ProofError"
    if old_size == 0 or old_size == new_size:
        if proof_:
            return "ProofError"
        if old_size == 0 and old_root != sha256(b""):
            return "RootMismatch"
        if old_size == new_size and old_root != new_root:
            return "RootMismatch"
        return None
    try:
        old, new = walk(old_size, new_size, list(proof_), True)
    except _Malformed:
        return "ProofError"
    return None if (old, new) == (old_root, new_root) else "RootMismatch"
