"""``InclusionVerifier`` judged by ``verify_inclusion``, and ``nodes_read`` by the reference.

The verifier's shortcut for increasing leaves must never change a verdict: for every
leaf of a run, tampered or not, it accepts exactly when ``verify_inclusion`` does and
raises the same error. And it must be the shortcut that runs: a contiguous run costs
O(1) node hashes per leaf.
"""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from merkle_reference import RefNodes, mth, path

import wire.merkle.verify as verify_module
from wire.merkle import (
    CompactTree,
    InclusionVerifier,
    NodeReader,
    ProofError,
    RootMismatch,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    nodes_read,
    root,
    verify_inclusion,
)

MAX = 300


def make_leaves(n: int, salt: bytes = b"v") -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


def stored_reader(leaves: list[bytes]) -> tuple[NodeReader, bytes]:
    """A fast ``node`` reader over every complete subtree, and the root (via CompactTree)."""
    tree = CompactTree()
    nodes = {(level, idx): h for level, idx, h in tree.extend(map(leaf_hash, leaves))}
    return lambda level, idx: nodes[(level, idx)], tree.root()


def outcome(check: object, *args: object) -> tuple[type, str] | None:
    """None when ``check(*args)`` passes, else the error's type and message."""
    try:
        check(*args)  # type: ignore[operator]
    except (ProofError, RootMismatch) as error:
        return type(error), str(error)
    return None


def test_every_run_of_small_trees_verifies() -> None:
    """Exhaustively up to 33 leaves: every start, strides 1 to 3 (contiguous and sparse)."""
    leaves = make_leaves(33)
    for size in range(1, 34):
        reader, top = RefNodes(leaves, limit=size), mth(leaves[:size])
        proofs = [inclusion_proof(i, size, reader) for i in range(size)]
        for first in range(size):
            for stride in (1, 2, 3):
                verifier = InclusionVerifier(size, top)
                for i in range(first, size, stride):
                    verifier.verify(leaf_hash(leaves[i]), i, proofs[i])


def test_a_contiguous_run_costs_constant_hashes_per_leaf(monkeypatch: pytest.MonkeyPatch) -> None:
    size = 1000
    leaves = make_leaves(size)
    reader, top = stored_reader(leaves)
    proofs = [inclusion_proof(i, size, reader) for i in range(size)]
    hashed = []
    real = verify_module.node_hash
    monkeypatch.setattr(verify_module, "node_hash", lambda a, b: hashed.append(1) or real(a, b))
    verifier = InclusionVerifier(size, top)
    for i in range(size):
        verifier.verify(leaf_hash(leaves[i]), i, proofs[i])
    # independent checks would hash sum(len(p)) ~ 10 per leaf; the runs hash ~2 per leaf
    assert len(hashed) <= 3 * size
    assert sum(map(len, proofs)) > 9 * size


@st.composite
def tampered_run(draw: st.DrawFn) -> tuple[list[bytes], int, list[tuple[int, bytes, list]]]:
    """(leaves, size, [(index, leaf hash, proof)]) for increasing indices, some tampered."""
    size = draw(st.integers(1, MAX))
    leaves = make_leaves(size, draw(st.binary(max_size=4)))
    reader, _ = stored_reader(leaves)
    first = draw(st.integers(0, size - 1))
    stride = draw(st.sampled_from([1, 1, 1, 2, 5, 37]))
    run = []
    for i in range(first, size, stride):
        proof: list = inclusion_proof(i, size, reader)
        leaf = leaf_hash(leaves[i])
        kind = draw(st.sampled_from(["ok"] * 6 + ["flip", "leaf", "short", "long", "other",
                                                  "swap", "type", "index"]))  # fmt: skip
        if kind == "flip" and proof:
            k = draw(st.integers(0, len(proof) - 1))
            proof[k] = bytes([proof[k][0] ^ 1]) + proof[k][1:]
        elif kind == "leaf":
            leaf = leaf_hash(b"forged")
        elif kind == "short" and proof:
            proof.pop()
        elif kind == "long":
            proof.append(bytes(32))
        elif kind == "other":
            proof = inclusion_proof(draw(st.integers(0, size - 1)), size, reader)
        elif kind == "swap" and len(proof) > 1:
            proof[0], proof[1] = proof[1], proof[0]
        elif kind == "type" and proof:
            proof[0] = proof[0].hex()
        elif kind == "index":
            i = draw(st.integers(0, size + 1))
        run.append((i, leaf, proof))
    return leaves, size, run


@settings(deadline=None, max_examples=200)
@given(tampered_run())
def test_same_verdict_as_verify_inclusion(case: tuple) -> None:
    leaves, size, run = case
    top = stored_reader(leaves)[1]
    verifier = InclusionVerifier(size, top)
    for index, leaf, proof in run:
        want = outcome(verify_inclusion, leaf, index, size, proof, top)
        assert outcome(verifier.verify, leaf, index, proof) == want, (index, size)
        if want is not None:
            return  # a verifier stops at the first failure


def test_a_verified_proof_is_copied() -> None:
    """Changing a list after it was verified cannot taint what the next leaf is held to."""
    leaves = make_leaves(8)
    reader, top = RefNodes(leaves), mth(leaves)
    verifier = InclusionVerifier(8, top)
    proof = inclusion_proof(2, 8, reader)
    verifier.verify(leaf_hash(leaves[2]), 2, proof)
    proof[-1] = bytes(32)
    bad = inclusion_proof(3, 8, reader)
    bad[-1] = bytes(32)
    with pytest.raises(RootMismatch):
        verifier.verify(leaf_hash(leaves[3]), 3, bad)


@settings(deadline=None, max_examples=100)
@given(st.integers(1, MAX), st.data())
def test_nodes_read_names_what_the_proofs_read(size: int, data: st.DataObject) -> None:
    leaves = make_leaves(size)
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    for build in (
        partial(inclusion_proof, index, size),
        partial(consistency_proof, old, size),
        partial(root, size),
    ):
        reader = RefNodes(leaves)
        got = build(reader)
        ids = nodes_read(build)
        assert ids == list(dict.fromkeys(reader.calls))  # each once, in first-read order
        stored = {node: reader(*node) for node in ids}
        assert build(lambda level, idx, stored=stored: stored[(level, idx)]) == got
    assert inclusion_proof(index, size, RefNodes(leaves)) == path(index, leaves)
