"""Proof *verification* (RFC 9162 §2.1.3.2, §2.1.4.2): needs only hashes, never the tree.

Every failure is an ``IntegrityFailure``, so a caller checking a receipt needs one
``except``:

* ``ProofError``   the proof cannot be right for these sizes: wrong number of hashes, a
                   hash that is not 32 bytes, an index outside the tree, sizes going
                   backwards, a non-empty proof where none is defined.
* ``RootMismatch`` the proof is well-formed but leads to a different root than the one
                   trusted; carries ``expected`` (the root given by the caller) and
                   ``calculated`` (the root the proof leads to), both shown in hex.

The loops are RFC 9162's algorithms step by step; the expected proof length is checked
first so a truncated or padded proof gets a ``ProofError`` naming both lengths.
"""

from __future__ import annotations

from collections.abc import Sequence

from wire.errors import IntegrityFailure
from wire.merkle.hasher import HASH_SIZE, empty_root, node_hash


class ProofError(IntegrityFailure):
    """A proof is malformed for the sizes and index it claims to cover."""

    code = "merkle-proof-malformed"


class RootMismatch(IntegrityFailure):
    """A well-formed proof leads to a root other than the trusted one."""

    code = "merkle-root-mismatch"

    def __init__(self, expected: bytes, calculated: bytes, *, what: str = "root") -> None:
        super().__init__(
            f"{what} mismatch: expected {expected.hex()}, calculated {calculated.hex()}"
        )
        self.expected = expected
        self.calculated = calculated
        self.what = what


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that ``proof`` yields for leaf ``index`` of a tree of ``size``.

    Preconditions (``ProofError`` otherwise): ``0 <= index < size``; ``leaf_hash`` and
    every proof element are 32 bytes; ``len(proof)`` is exactly the audit path length for
    (index, size). The result is only meaningful once compared with a trusted root; use
    ``verify_inclusion`` for that.
    """
    _check_count("index", index)
    _check_count("size", size)
    if index >= size:
        raise ProofError(f"index {index} out of bounds for tree size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_proof(proof, _inclusion_length(index, size), f"leaf {index} of tree size {size}")
    return _fold_path(leaf_hash, index, size, proof)


def _fold_path(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 on arguments already checked: the root the path leads to.

    The RFC's own "sn" guards cannot fire after an exact length check; they stay as its
    defence in depth.
    """
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Returns None on success. Raises ``ProofError`` for a malformed proof (see
    ``root_from_inclusion_proof``) and ``RootMismatch(expected=root, calculated=...)``
    when the proof leads elsewhere.
    """
    _check_hash("root", root)
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if calculated != root:
        raise RootMismatch(root, calculated)


class InclusionVerifier:
    """Verifies inclusion proofs of many leaves against one tree head (``size``, ``root``).

    ``verify(leaf_hash, index, proof)`` accepts and rejects exactly what
    ``verify_inclusion(leaf_hash, index, size, proof, root)`` does, with the same errors,
    but hashes less when leaves come in increasing order, as in an export. Once a proof
    is verified, every hash in it is a trusted subtree hash. The next leaf's path shares
    everything above the two leaves' lowest common ancestor with it, so that part is only
    compared; below, the new proof must rebuild the ancestor's two children: the left
    one from the previous leaf and its proof, the right one from the new leaf and its
    proof. Consecutive leaves cost O(1) hashes amortised instead of O(log size); leaves
    ``gap`` apart O(log gap). Whenever that shortcut cannot accept, the full RFC 9162
    check decides, so the verdict never depends on the shortcut.
    """

    __slots__ = ("_last", "root", "size")

    def __init__(self, size: int, root: bytes) -> None:
        """Prepare to check proofs against the tree of ``size`` leaves with ``root``.

        Nothing is checked here: a malformed ``size`` or ``root`` fails the first
        ``verify``, as ``verify_inclusion`` would.
        """
        self.size = size
        self.root = root
        self._last: tuple[int, bytes, list[bytes]] | None = None

    def verify(self, leaf_hash: bytes, index: int, proof: Sequence[bytes]) -> None:
        """Check that ``leaf_hash`` is leaf ``index`` of the tree; see ``verify_inclusion``."""
        last = self._last
        if not (
            last is not None
            and type(index) is int
            and last[0] < index < self.size
            and isinstance(proof, list)
            and self._extends(last, leaf_hash, index, proof)
        ):
            verify_inclusion(leaf_hash, index, self.size, proof, self.root)
        self._last = (index, leaf_hash, list(proof))  # a copy: the caller may reuse its list

    def _extends(
        self, last: tuple[int, bytes, list[bytes]], leaf: bytes, index: int, proof: list[bytes]
    ) -> bool:
        """True if ``proof`` leads to the root the verified ``last`` proof leads to.

        With ``a`` the level of the lowest common ancestor's children (the highest bit
        where the two indices differ), the ancestor covers [begin, begin + 2**(a+1)) cut
        at the tree size; its left child is perfect and holds the previous leaf, whose
        proof has ``a`` hashes inside it, then the right child's hash, then the path
        above. The new leaf's proof has ``b`` hashes inside the right child, then the
        left child's hash, then the same path above. False means "undecided here".
        """
        old, old_leaf, old_proof = last
        if len(proof) != _inclusion_length(index, self.size):
            return False
        a = (old ^ index).bit_length() - 1
        half = 1 << a
        begin = (old >> a) << a  # the left child's first leaf
        right_width = min(begin + 2 * half, self.size) - begin - half
        local = index - begin - half
        b = len(proof) - len(old_proof) + a
        if b < 0 or proof[b + 1 :] != old_proof[a + 1 :]:
            return False
        left = old_leaf
        for level in range(a):  # the previous leaf's perfect left child, bottom up
            sibling = old_proof[level]
            left = node_hash(sibling, left) if (old >> level) & 1 else node_hash(left, sibling)
        if proof[b] != left:
            return False
        if _inclusion_length(local, right_width) != b or not _is_hash(leaf):
            return False
        below = proof[:b]
        for sibling in below:
            if not _is_hash(sibling):
                return False
        if local == 0:  # the next leaf: every sibling below is on its right
            right = leaf
            for sibling in below:
                right = node_hash(right, sibling)
        else:
            right = _fold_path(leaf, local, right_width, below)
        return right == old_proof[a]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    Preconditions (``ProofError`` otherwise): ``0 <= old_size <= new_size``; roots and
    proof elements are 32 bytes; the proof is empty if ``old_size`` is 0 or equals
    ``new_size``, and otherwise has exactly the length RFC 9162 §2.1.4.1 gives.

    Edge cases: equal sizes need equal roots. ``old_size == 0`` needs ``old_root`` to be
    ``empty_root()``; this is stricter than transparency-dev/merkle, which accepts any
    root for an empty old tree. Raises ``RootMismatch`` (``what`` says which root) when
    a well-formed proof does not connect the two roots.
    """
    _check_count("old_size", old_size)
    _check_count("new_size", new_size)
    if old_size > new_size:
        raise ProofError(f"old tree size {old_size} is larger than new tree size {new_size}")
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    if old_size == 0 or old_size == new_size:
        _check_proof(proof, 0, f"tree sizes {old_size} -> {new_size}")
        if old_size == 0 and old_root != empty_root():
            raise RootMismatch(old_root, empty_root(), what="old root (empty tree)")
        if old_size == new_size and new_root != old_root:
            raise RootMismatch(new_root, old_root, what="new root (same size as old)")
        return
    _check_proof(
        proof, _consistency_length(old_size, new_size), f"tree sizes {old_size} -> {new_size}"
    )
    # RFC 9162 §2.1.4.2; as above, its "sn" guards back up the exact length check.
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of both
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != old_root:
        raise RootMismatch(old_root, fr, what="old root")
    if sr != new_root:
        raise RootMismatch(new_root, sr, what="new root")


def _inclusion_length(index: int, size: int) -> int:
    """Audit path length: the levels below where index and size - 1 part ways ("inner"),
    plus one hash per left sibling above that point ("border")."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    """PROOF(old, D[new]) length for 0 < old < new: the inclusion path of leaf old - 1,
    minus the levels inside the old tree's last perfect subtree, plus that subtree's own
    hash unless it is the whole old tree (old a power of two)."""
    shift = (old_size & -old_size).bit_length() - 1
    seed = 0 if old_size == 1 << shift else 1
    return seed + _inclusion_length(old_size - 1, new_size) - shift


def _is_hash(h: object) -> bool:
    return type(h) is bytes and len(h) == HASH_SIZE


def _check_proof(proof: Sequence[bytes], want: int, what: str) -> None:
    if len(proof) != want:
        raise ProofError(f"proof for {what} must have {want} hashes, got {len(proof)}")
    for i, h in enumerate(proof):
        _check_hash(f"proof[{i}]", h)


def _check_hash(name: str, h: bytes) -> None:
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        got = f"{len(h)} bytes" if isinstance(h, bytes) else type(h).__name__
        raise ProofError(f"{name} must be a {HASH_SIZE}-byte hash, got {got}")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{name} must be a non-negative int, got {value!r}")
