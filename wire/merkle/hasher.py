"""RFC 9162 §2.1 hashing for the audit trail's Merkle tree (SHA-256, domain-separated).

The whole hasher is three functions and a fold; everything else in ``wire.merkle`` is
built on them::

    leaf_hash(d)    = SHA-256(0x00 || d)        RFC 9162 §2.1.1, MTH({d})
    node_hash(l, r) = SHA-256(0x01 || l || r)   interior nodes
    empty_root()    = SHA-256("")               MTH({}), the root of the empty tree

The 0x00 / 0x01 prefixes keep a leaf from ever being mistaken for an interior node
(second-preimage resistance). Only ``hashlib`` is used; nothing here performs I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

#: size in bytes of every hash in the tree
HASH_SIZE = 32

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

_EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node: SHA-256(0x01 || left || right).

    ``left`` and ``right`` are the hashes of the two children, left child first. No length
    check is made here (this is the hot path); callers handing in untrusted hashes check
    them first (see ``wire.merkle.verify``).
    """
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def empty_root() -> bytes:
    """Return MTH({}) = SHA-256(""), the root hash of a tree with no leaves."""
    return _EMPTY_ROOT


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) for the leaves whose leaf hashes are ``hashes``, in order.

    Iterative and O(n) time, O(log n) memory: leaves are pushed onto a stack of perfect
    subtree roots, merging equal-sized neighbours as in a binary counter, and the stack is
    folded right to left at the end. This gives the same tree as RFC 9162's recursive
    split at the largest power of two smaller than n.

    Precondition: every element is a leaf *hash* (``leaf_hash(data)``), not leaf data.
    """
    stack: list[bytes] = []
    for count, h in enumerate(hashes):
        # ``count`` leaves are already in; each trailing 1 bit of count is a merge.
        while count & 1:
            h = node_hash(stack.pop(), h)
            count >>= 1
        stack.append(h)
    if not stack:
        return _EMPTY_ROOT
    root = stack.pop()
    while stack:
        root = node_hash(stack.pop(), root)
    return root
