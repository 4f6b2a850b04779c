"""``CompactTree``: an append-only Merkle tree kept as its frontier (O(log n) memory).

The frontier of a tree of ``size`` leaves is the list of roots of the perfect subtrees
that ``[0, size)`` splits into, one per set bit of ``size``, largest (leftmost) first.
Appending a leaf is a binary-counter increment: the new leaf merges with the frontier's
smallest subtrees while they have equal size. Every merge completes a perfect subtree,
and ``append`` returns them all as ``(level, index, hash)``: exactly the rows the trail
projection stores in ``trail_nodes(level, index, hash)`` so that ``wire.merkle.proof``
can later build any proof from O(log n) lookups. Each complete subtree is emitted once,
by the append that completes it, so a store that keeps every emitted row holds every
complete subtree hash.

To resume after a restart, build ``CompactTree(size, frontier)`` from a saved frontier,
or ``CompactTree.resume(size, node)`` from the stored nodes themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wire.errors import InvalidInput
from wire.merkle.hasher import HASH_SIZE, empty_root, node_hash
from wire.merkle.proof import NodeReader, perfect_subtrees, read_node

#: a complete subtree: (level, index, hash) covering leaves [index << level, (index+1) << level)
Node = tuple[int, int, bytes]


class CompactTree:
    """Append-only Merkle tree state: ``size`` and the frontier hashes.

    Invariant: ``len(frontier) == size.bit_count()`` and ``frontier[i]`` is the hash of the
    i-th perfect subtree of ``frontier_ids(size)``.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        """Resume a tree of ``size`` leaves from its frontier hashes (largest subtree first).

        Raises ``InvalidInput`` if ``size`` is negative, if the number of hashes is not
        popcount(size), or if a hash is not 32 bytes. The hashes themselves cannot be
        checked here: resume only from a frontier you trust (or check ``root()`` against
        the last signed tree head).
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(f"size must be a non-negative int, got {size!r}", field="size")
        frontier = list(frontier)
        if len(frontier) != size.bit_count():
            raise InvalidInput(
                f"a tree of size {size} has {size.bit_count()} frontier hashes, "
                f"got {len(frontier)}",
                field="frontier",
            )
        for i, h in enumerate(frontier):
            _check_hash(f"frontier[{i}]", h)
        self._size = size
        self._frontier = frontier

    @classmethod
    def resume(cls, size: int, node: NodeReader) -> CompactTree:
        """Rebuild the state of a tree of ``size`` leaves from stored complete subtrees.

        Makes popcount(size) calls to ``node(level, index)`` (see ``wire.merkle.proof``);
        a stored hash that is not 32 bytes raises ``IntegrityFailure``.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(f"size must be a non-negative int, got {size!r}", field="size")
        return cls(size, [read_node(node, lvl, idx) for lvl, idx in frontier_ids(size)])

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """The frontier hashes, largest subtree first (pass back to the constructor)."""
        return tuple(self._frontier)

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf (its ``leaf_hash``, not its data) and return the new nodes.

        The first returned node is the leaf itself, ``(0, old_size, leaf_hash)``, followed
        by every subtree the append completed, bottom-up; there are
        1 + (number of trailing 1 bits of the old size) of them.
        Raises ``InvalidInput`` if ``leaf_hash`` is not 32 bytes (nothing is appended).
        """
        _check_hash("leaf hash", leaf_hash)
        h, level, index = leaf_hash, 0, self._size
        created: list[Node] = [(0, index, h)]
        while index & 1:
            h = node_hash(self._frontier.pop(), h)
            level, index = level + 1, index >> 1
            created.append((level, index, h))
        self._frontier.append(h)
        self._size += 1
        return created

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Append several leaves in order; return all the nodes they created, in order."""
        created: list[Node] = []
        for h in leaf_hashes:
            created.extend(self.append(h))
        return created

    def root(self) -> bytes:
        """Return MTH of the leaves appended so far (``empty_root()`` when empty)."""
        if not self._frontier:
            return empty_root()
        h = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            h = node_hash(left, h)
        return h

    def __repr__(self) -> str:
        return f"CompactTree(size={self._size}, root={self.root().hex()})"


def frontier_ids(size: int) -> list[tuple[int, int]]:
    """Return the (level, index) of each frontier subtree of a tree of ``size``, left first."""
    return perfect_subtrees(0, size)


def _check_hash(name: str, h: bytes) -> None:
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        got = f"{len(h)} bytes" if isinstance(h, bytes) else type(h).__name__
        raise InvalidInput(f"{name} must be a {HASH_SIZE}-byte hash, got {got}", field=name)
