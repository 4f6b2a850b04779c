"""Preconditions and error types: what callers can catch, and what the messages say."""

from __future__ import annotations

import pytest
from merkle_reference import STANDARD_LEAVES, RefNodes, mth, path

from wire.errors import CoffreError, IntegrityFailure, InvalidInput
from wire.merkle import (
    CompactTree,
    ProofError,
    RootMismatch,
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    root,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

NODES = RefNodes(STANDARD_LEAVES)
ROOT8 = mth(STANDARD_LEAVES)
LEAF0 = leaf_hash(STANDARD_LEAVES[0])


def test_error_classes_fit_the_tree() -> None:
    assert issubclass(ProofError, IntegrityFailure)
    assert issubclass(RootMismatch, IntegrityFailure)
    assert issubclass(IntegrityFailure, CoffreError)


def test_inclusion_index_out_of_bounds() -> None:
    with pytest.raises(InvalidInput, match=r"^index 7 out of bounds for tree size 5$") as info:
        inclusion_proof(7, 5, NODES)
    assert info.value.field == "index"
    with pytest.raises(InvalidInput, match="index 0 out of bounds for tree size 0"):
        inclusion_proof(0, 0, NODES)


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (0, -1), (True, 5), (0, 5.0), ("0", 5)])
def test_inclusion_rejects_bad_numbers(index: object, size: object) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof(index, size, NODES)  # type: ignore[arg-type]


def test_consistency_sizes_must_not_go_backwards() -> None:
    with pytest.raises(InvalidInput, match="old tree size 6 is larger than new tree size 5"):
        consistency_proof(6, 5, NODES)
    with pytest.raises(InvalidInput):
        consistency_proof(-1, 5, NODES)
    with pytest.raises(InvalidInput):
        root(-1, NODES)
    assert consistency_proof(0, 8, NODES) == []
    assert consistency_proof(8, 8, NODES) == []


@pytest.mark.parametrize("bad", [None, b"", b"x" * 31, bytearray(32)])
def test_corrupt_store_is_an_integrity_failure(bad: object) -> None:
    with pytest.raises(IntegrityFailure, match=r"node\(\d+, \d+\) returned"):
        inclusion_proof(0, 8, lambda level, index: bad)  # type: ignore[arg-type,return-value]


def test_root_mismatch_carries_both_values() -> None:
    proof = path(0, STANDARD_LEAVES)
    wrong = bytes(32)
    with pytest.raises(RootMismatch) as info:
        verify_inclusion(LEAF0, 0, 8, proof, wrong)
    err = info.value
    assert err.expected == wrong
    assert err.calculated == ROOT8
    assert wrong.hex() in str(err) and ROOT8.hex() in str(err)
    assert err.detail == str(err)


def test_consistency_mismatch_names_the_root() -> None:
    r5, r8 = mth(STANDARD_LEAVES[:5]), mth(STANDARD_LEAVES)
    good = consistency_proof(5, 8, NODES)
    with pytest.raises(RootMismatch, match=r"^old root mismatch") as info:
        verify_consistency(5, 8, bytes(32), r8, good)
    assert (info.value.expected, info.value.calculated) == (bytes(32), r5)
    with pytest.raises(RootMismatch, match=r"^new root mismatch"):
        verify_consistency(5, 8, r5, bytes(32), good)


def test_proof_errors_say_what_is_wrong() -> None:
    proof = path(0, STANDARD_LEAVES)
    with pytest.raises(ProofError, match="must have 3 hashes, got 2"):
        verify_inclusion(LEAF0, 0, 8, proof[:2], ROOT8)
    with pytest.raises(ProofError, match=r"proof\[1\] must be a 32-byte hash, got 3 bytes"):
        verify_inclusion(LEAF0, 0, 8, [proof[0], b"abc", proof[2]], ROOT8)
    with pytest.raises(ProofError, match="index 8 out of bounds for tree size 8"):
        root_from_inclusion_proof(LEAF0, 8, 8, proof)
    with pytest.raises(ProofError, match="root must be a 32-byte hash"):
        verify_inclusion(LEAF0, 0, 8, proof, ROOT8.hex().encode())
    with pytest.raises(ProofError, match="old tree size 8 is larger than new tree size 5"):
        verify_consistency(8, 5, ROOT8, ROOT8, [])
    with pytest.raises(ProofError, match="must have 0 hashes, got 1"):
        verify_consistency(8, 8, ROOT8, ROOT8, [ROOT8])


def test_empty_old_tree_must_have_the_empty_root() -> None:
    verify_consistency(0, 8, empty_root(), ROOT8, [])
    with pytest.raises(RootMismatch) as info:
        verify_consistency(0, 8, ROOT8, ROOT8, [])
    assert info.value.calculated == empty_root()


def test_compact_tree_rejects_bad_state() -> None:
    with pytest.raises(InvalidInput, match="a tree of size 5 has 2 frontier hashes, got 1"):
        CompactTree(5, [ROOT8])
    with pytest.raises(InvalidInput):
        CompactTree(-1)
    with pytest.raises(InvalidInput, match=r"frontier\[0\]"):
        CompactTree(1, [b"short"])
    tree = CompactTree()
    with pytest.raises(InvalidInput, match="leaf hash must be a 32-byte hash"):
        tree.append(b"raw leaf data, not a hash")
    assert tree.size == 0
    with pytest.raises(IntegrityFailure):
        CompactTree.resume(3, lambda level, index: b"")


def test_compact_tree_basics() -> None:
    tree = CompactTree()
    assert tree.root() == empty_root()
    hashes = [leaf_hash(d) for d in STANDARD_LEAVES]
    assert tree.append(hashes[0]) == [(0, 0, hashes[0])]
    created = tree.append(hashes[1])
    assert created == [(0, 1, hashes[1]), (1, 0, mth(STANDARD_LEAVES[:2]))]
    tree.extend(hashes[2:])
    assert [lvl for lvl, _, _ in tree.extend([])] == []
    assert tree.frontier == (ROOT8,)
    assert tree.root() == ROOT8
    assert "size=8" in repr(tree)
