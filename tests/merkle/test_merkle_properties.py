"""Generate-then-verify over random trees, the efficient code judged by the reference.

Cf. transparency-dev/merkle ``testonly/tree_fuzz_test.go``. Sizes 1..300; a store may
hold more leaves than the tree being proved (an old tree inside a bigger log), and the
reference ``node`` reader fails the test if asked for a subtree past the proved size.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from merkle_reference import RefNodes, complete_subtrees, mth, path, proof

from wire.merkle import (
    CompactTree,
    ProofError,
    RootMismatch,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

MAX = 300
merkle_settings = settings(deadline=None, max_examples=100)


def make_leaves(n: int, salt: bytes) -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


def flip(h: bytes, byte: int) -> bytes:
    byte %= len(h)
    return h[:byte] + bytes([h[byte] ^ 0x01]) + h[byte + 1 :]


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """(leaves of the store, size proved, leaf index), store >= size > index >= 0."""
    size = draw(st.integers(1, MAX))
    stored = draw(st.integers(size, min(MAX, size + 20)))
    index = draw(st.integers(0, size - 1))
    return make_leaves(stored, draw(st.binary(max_size=4))), size, index


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """(leaves of the store, old size, new size), store >= new >= old >= 0."""
    new = draw(st.integers(1, MAX))
    old = draw(st.integers(0, new))
    stored = draw(st.integers(new, min(MAX, new + 20)))
    return make_leaves(stored, draw(st.binary(max_size=4))), old, new


@merkle_settings
@given(st.integers(0, MAX), st.binary(max_size=4))
def test_root_from_leaf_hashes_is_mth(n: int, salt: bytes) -> None:
    leaves = make_leaves(n, salt)
    assert root_from_leaf_hashes([leaf_hash(d) for d in leaves]) == mth(leaves)


@merkle_settings
@given(tree_and_index(), st.integers(0, 31))
def test_inclusion_generate_then_verify(case: tuple, byte: int) -> None:
    leaves, size, index = case
    reader = RefNodes(leaves, limit=size)
    want_root, leaf = mth(leaves[:size]), leaf_hash(leaves[index])

    got = inclusion_proof(index, size, reader)
    assert got == path(index, leaves[:size])
    assert len(reader.calls) <= 2 * size.bit_length()
    assert root(size, RefNodes(leaves, limit=size)) == want_root
    assert root_from_inclusion_proof(leaf, index, size, got) == want_root
    verify_inclusion(leaf, index, size, got, want_root)

    if got:
        k = byte % len(got)
        bad = [*got[:k], flip(got[k], byte), *got[k + 1 :]]
        with pytest.raises(RootMismatch) as info:
            verify_inclusion(leaf, index, size, bad, want_root)
        assert info.value.expected == want_root
        assert info.value.calculated == root_from_inclusion_proof(leaf, index, size, bad)
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, got[:-1], want_root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, [*got, want_root], want_root)
    with pytest.raises(RootMismatch):
        verify_inclusion(flip(leaf, byte), index, size, got, want_root)


@merkle_settings
@given(tree_and_sizes(), st.integers(0, 31))
def test_consistency_generate_then_verify(case: tuple, byte: int) -> None:
    leaves, old, new = case
    reader = RefNodes(leaves, limit=new)
    old_root, new_root = mth(leaves[:old]), mth(leaves[:new])

    got = consistency_proof(old, new, reader)
    assert got == (proof(old, leaves[:new]) if 0 < old < new else [])
    assert len(reader.calls) <= 2 * new.bit_length()
    verify_consistency(old, new, old_root, new_root, got)

    if got:
        k = byte % len(got)
        bad = [*got[:k], flip(got[k], byte), *got[k + 1 :]]
        with pytest.raises(RootMismatch):
            verify_consistency(old, new, old_root, new_root, bad)
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, got[:-1])
        with pytest.raises(RootMismatch):
            verify_consistency(old, new, new_root, old_root, got)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, [*got, new_root])
    if old > 0:  # every tree extends the empty one, whatever its root
        with pytest.raises(RootMismatch):
            verify_consistency(old, new, old_root, flip(new_root, byte), got)
    with pytest.raises(RootMismatch):
        verify_consistency(old, new, flip(old_root, byte), new_root, got)


@merkle_settings
@given(st.integers(0, MAX), st.binary(max_size=4))
def test_compact_tree_emits_every_complete_subtree_once(n: int, salt: bytes) -> None:
    leaves = make_leaves(n, salt)
    tree = CompactTree()
    emitted: dict[tuple[int, int], bytes] = {}
    for i, d in enumerate(leaves):
        created = tree.append(leaf_hash(d))
        assert created[0] == (0, i, leaf_hash(d))
        for level, index, h in created:
            assert (level, index) not in emitted
            emitted[(level, index)] = h
    assert set(emitted) == complete_subtrees(n)
    for (level, index), h in emitted.items():
        assert h == mth(leaves[index << level : (index + 1) << level])
    assert tree.size == n
    assert tree.root() == mth(leaves)
    assert len(tree.frontier) == n.bit_count()


@merkle_settings
@given(st.integers(1, MAX), st.data())
def test_compact_tree_resumes_and_serves_proofs(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n, b"r")
    hashes = [leaf_hash(d) for d in leaves]
    cut = data.draw(st.integers(0, n), label="cut")

    straight = CompactTree()
    nodes = straight.extend(hashes)
    store = {(lvl, idx): h for lvl, idx, h in nodes}

    first = CompactTree()
    before = first.extend(hashes[:cut])
    from_frontier = CompactTree(cut, first.frontier)
    from_store = CompactTree.resume(cut, lambda lvl, idx: store[(lvl, idx)])
    assert from_store.frontier == first.frontier
    assert from_store.root() == first.root() == mth(leaves[:cut])
    assert before + from_frontier.extend(hashes[cut:]) == nodes
    assert from_store.extend(hashes[cut:]) == nodes[len(before) :]

    # The stored rows are exactly what proof generation needs.
    index = data.draw(st.integers(0, n - 1), label="index")
    node = store.__getitem__
    assert inclusion_proof(index, n, lambda lvl, idx: node((lvl, idx))) == path(index, leaves)
    assert root(n, lambda lvl, idx: node((lvl, idx))) == straight.root()
    old_proof = consistency_proof(cut, n, lambda lvl, idx: node((lvl, idx)))
    verify_consistency(cut, n, mth(leaves[:cut]), straight.root(), old_proof)


def test_every_proof_of_small_trees() -> None:
    """Exhaustively, every (index, size) and (old, new) up to 33 leaves."""
    leaves = make_leaves(33, b"x")
    for new in range(1, 34):
        reader, new_root = RefNodes(leaves, limit=new), mth(leaves[:new])
        for i in range(new):
            got = inclusion_proof(i, new, reader)
            assert got == path(i, leaves[:new])
            verify_inclusion(leaf_hash(leaves[i]), i, new, got, new_root)
        for old in range(new + 1):
            got = consistency_proof(old, new, reader)
            assert got == (proof(old, leaves[:new]) if 0 < old < new else [])
            verify_consistency(old, new, mth(leaves[:old]), new_root, got)


def test_large_tree_costs_logarithmic_reads() -> None:
    """10M and 10k leaves cost about the same: proofs read O(log n) stored nodes.

    A tree of identical leaves is consistent with node(level, _) depending on level only,
    so it can stand in for a store of 10M rows without building one.
    """
    by_level = [leaf_hash(b"entry")]
    for _ in range(64):
        by_level.append(node_hash(by_level[-1], by_level[-1]))
    calls: list[tuple[int, int]] = []

    def node(level: int, index: int) -> bytes:
        calls.append((level, index))
        return by_level[level]

    for size in (10_000, 10_000_000):
        calls.clear()
        top = root(size, node)
        assert len(calls) == size.bit_count()
        for index in (0, size // 3, size - 1):
            calls.clear()
            got = inclusion_proof(index, size, node)
            assert len(calls) <= 2 * size.bit_length()
            verify_inclusion(by_level[0], index, size, got, top)
        old = size - size // 7
        calls.clear()
        got = consistency_proof(old, size, node)
        assert len(calls) <= 2 * size.bit_length()
        verify_consistency(old, size, root(old, node), top, got)
