"""Proof *generation* over a tree that is not held in memory (RFC 9162 §2.1.3.1, §2.1.4.1).

The caller supplies ``node(level, index) -> bytes``: the hash of the complete, perfect
subtree of ``2**level`` leaves starting at leaf ``index * 2**level`` (level 0 is the leaf
hash itself). It is only ever asked for subtrees that are complete in the tree being
proved, i.e. ``(index + 1) * 2**level <= size``. A store that keeps every complete
subtree hash (``trail_nodes(level, index, hash)``, filled by ``CompactTree``) answers it
with one lookup, so each function here makes O(log n) calls, whatever the tree size.

Right-edge subtrees that are not perfect are hashed on the fly from their perfect parts.
Verification lives in ``wire.merkle.verify`` and needs none of this.
"""

from __future__ import annotations

from collections.abc import Callable

from wire.errors import IntegrityFailure, InvalidInput
from wire.merkle.hasher import HASH_SIZE, empty_root, node_hash

#: ``node(level, index)``: hash of leaves [index * 2**level, (index + 1) * 2**level)
NodeReader = Callable[[int, int], bytes]

_PLACEHOLDER = bytes(HASH_SIZE)  # what ``nodes_read``'s dry run hashes


def perfect_subtrees(begin: int, end: int) -> list[tuple[int, int]]:
    """Split leaves [begin, end) into perfect subtrees, left to right, as (level, index).

    Precondition: ``0 <= begin <= end`` and ``begin`` is a multiple of the smallest power
    of two >= ``end - begin`` (true of every subtree RFC 9162's recursion produces, and
    of ``begin == 0``). The subtrees are then the set bits of ``end - begin``, largest
    first, each aligned on its own size.
    """
    ids: list[tuple[int, int]] = []
    width = end - begin
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            ids.append((level, begin >> level))
            begin += 1 << level
    return ids


def root(size: int, node: NodeReader) -> bytes:
    """Return MTH(D[size]), the root of the first ``size`` leaves.

    Makes popcount(size) <= log2(size) + 1 calls to ``node``. ``size == 0`` gives
    ``empty_root()``. Raises ``InvalidInput`` if ``size`` is negative or not an int.
    """
    _check_count("size", size)
    if size == 0:
        return empty_root()
    return _range_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """Return PATH(index, D[size]): the audit path of leaf ``index`` in a tree of ``size``.

    Requires ``0 <= index < size``; otherwise raises ``InvalidInput`` ("index 7 out of
    bounds for tree size 5"). The path lists sibling hashes from the leaf up to the root,
    as RFC 9162 §2.1.3.1 orders them. Makes O(log size) calls to ``node``.
    """
    _check_count("index", index)
    _check_count("size", size)
    if index >= size:
        raise InvalidInput(f"index {index} out of bounds for tree size {size}", field="index")
    siblings: list[bytes] = []  # collected root-first, returned leaf-first
    begin, width = 0, size  # the subtree D[begin:begin + width] holding the leaf
    while width > 1:
        k = _split(width)
        if index - begin < k:  # leaf on the left: the sibling is the right part
            siblings.append(_range_hash(begin + k, begin + width, node))
            width = k
        else:  # leaf on the right: the sibling is the (perfect) left part
            siblings.append(_range_hash(begin, begin + k, node))
            begin, width = begin + k, width - k
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1).

    Requires ``0 <= old_size <= new_size``; otherwise raises ``InvalidInput``. The proof
    is empty when ``old_size`` is 0 or equal to ``new_size`` (nothing to prove beyond
    the roots themselves). Makes O(log new_size) calls to ``node``.
    """
    _check_count("old_size", old_size)
    _check_count("new_size", new_size)
    if old_size > new_size:
        raise InvalidInput(
            f"old tree size {old_size} is larger than new tree size {new_size}",
            field="old_size",
        )
    if old_size in (0, new_size):
        return []
    hashes: list[bytes] = []  # collected root-first, returned innermost-first
    begin, width, m = 0, new_size, old_size  # SUBPROOF(m, D[begin:begin + width], b)
    whole = True  # RFC's ``b``: is D[begin:begin + m] the whole old tree?
    while m != width:
        k = _split(width)
        if m <= k:
            hashes.append(_range_hash(begin + k, begin + width, node))
            width = k
        else:
            hashes.append(_range_hash(begin, begin + k, node))
            begin, width, m, whole = begin + k, width - k, m - k, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        hashes.append(_range_hash(begin, begin + width, node))
    hashes.reverse()
    return hashes


def nodes_read(build: Callable[[NodeReader], object]) -> list[tuple[int, int]]:
    """The ``(level, index)`` of every node ``build(node)`` reads, in first-read order.

    ``build`` is one of this module's functions with its sizes bound, e.g.
    ``lambda node: inclusion_proof(7, 100, node)``. The ids depend only on the sizes and
    indices, never on hashes, so a dry run with placeholder hashes names them all: a
    store can then fetch every node in one query and run ``build`` again on the result.
    Raises what ``build`` raises for bad sizes (``InvalidInput``).
    """
    wanted: dict[tuple[int, int], None] = {}

    def record(level: int, index: int) -> bytes:
        wanted[(level, index)] = None
        return _PLACEHOLDER

    build(record)
    return list(wanted)


def _split(width: int) -> int:
    """Return the largest power of two strictly smaller than ``width`` (``width >= 2``)."""
    return 1 << ((width - 1).bit_length() - 1)


def _range_hash(begin: int, end: int, node: NodeReader) -> bytes:
    """MTH of leaves [begin, end), folded right to left from its perfect subtrees."""
    ids = perfect_subtrees(begin, end)
    h = read_node(node, *ids[-1])
    for level, index in reversed(ids[:-1]):
        h = node_hash(read_node(node, level, index), h)
    return h


def read_node(node: NodeReader, level: int, index: int) -> bytes:
    """Return ``node(level, index)``, raising ``IntegrityFailure`` unless it is 32 bytes."""
    h = node(level, index)
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        got = f"{len(h)} bytes" if isinstance(h, bytes) else type(h).__name__
        raise IntegrityFailure(
            f"node({level}, {index}) returned {got}, not a {HASH_SIZE}-byte hash"
        )
    return h


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an int, got {type(value).__name__}", field=name)
    if value < 0:
        raise InvalidInput(f"{name} must be >= 0, got {value}", field=name)
