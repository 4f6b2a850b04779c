"""Known answers from transparency-dev/merkle, computed independently of Coffre.

Sources (github.com/transparency-dev/merkle):
* ``rfc6962/rfc6962_test.go`` TestRFC6962Hasher: empty root, leaf and node hashes;
* ``proof/verify_test.go`` ``roots``, ``inclusionProofs``, ``consistencyProofs`` for the
  standard 8-leaf tree (``merkle_reference.STANDARD_LEAVES``); the Go vectors number
  leaves from 1, converted here to 0-based indices;
* ``proof/proof_test.go`` TestInclusion / TestConsistency: which (level, index) nodes a
  proof is built from, i.e. exactly the stored subtrees our generator must read.

Both the production code and the naive reference are checked against them, so the
reference that judges everything else is itself anchored.
"""

from __future__ import annotations

import pytest
from merkle_reference import STANDARD_LEAVES, RefNodes, mth, path, proof

from wire.merkle import (
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

H = bytes.fromhex

# rfc6962/rfc6962_test.go, TestRFC6962Hasher
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_LEAF = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
LEAF_L123456 = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
NODE_N123_N456 = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"

# proof/verify_test.go, ``roots``: MTH of the first 1..8 standard leaves.
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# proof/verify_test.go, ``inclusionProofs`` as (0-based index, size, path).
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# proof/verify_test.go, ``consistencyProofs`` as (old size, new size, proof).
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

LEAF_HASHES = [leaf_hash(d) for d in STANDARD_LEAVES]


def stored(level: int, index: int) -> bytes:
    """``node`` reader over the 8-leaf tree, computed by the reference."""
    return mth(STANDARD_LEAVES[index << level : (index + 1) << level])


def test_hasher_known_answers() -> None:
    assert empty_root() == H(EMPTY)
    assert leaf_hash(b"") == H(EMPTY_LEAF)
    assert leaf_hash(b"L123456") == H(LEAF_L123456)
    assert node_hash(b"N123", b"N456") == H(NODE_N123_N456)
    assert leaf_hash(b"") != empty_root()


def test_hasher_separates_leaves_from_nodes() -> None:
    # rfc6962_test.go TestRFC6962HasherCollisions
    a, b = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert a != b
    assert node_hash(a, b) != leaf_hash(a + b)
    assert node_hash(a, b) != node_hash(b, a)


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_standard_tree(size: int) -> None:
    want = H(ROOTS[size - 1])
    assert mth(STANDARD_LEAVES[:size]) == want  # the reference agrees
    assert root_from_leaf_hashes(LEAF_HASHES[:size]) == want
    assert root(size, RefNodes(STANDARD_LEAVES, limit=size)) == want


def test_empty_tree_root() -> None:
    assert root_from_leaf_hashes([]) == H(EMPTY)
    assert root(0, stored) == H(EMPTY)


@pytest.mark.parametrize(("index", "size", "want"), INCLUSION)
def test_inclusion_known_answers(index: int, size: int, want: list[str]) -> None:
    want_b = [H(h) for h in want]
    assert path(index, STANDARD_LEAVES[:size]) == want_b
    assert inclusion_proof(index, size, RefNodes(STANDARD_LEAVES, limit=size)) == want_b
    leaf, top = LEAF_HASHES[index], H(ROOTS[size - 1])
    assert root_from_inclusion_proof(leaf, index, size, want_b) == top
    verify_inclusion(leaf, index, size, want_b, top)


@pytest.mark.parametrize(("old", "new", "want"), CONSISTENCY)
def test_consistency_known_answers(old: int, new: int, want: list[str]) -> None:
    want_b = [H(h) for h in want]
    assert (proof(old, STANDARD_LEAVES[:new]) if old < new else []) == want_b
    assert consistency_proof(old, new, RefNodes(STANDARD_LEAVES, limit=new)) == want_b
    verify_consistency(old, new, H(ROOTS[old - 1]), H(ROOTS[new - 1]), want_b)


# proof/proof_test.go TestInclusion: (size, index) -> node IDs (level, index) read.
# Where Go "rehashes" (e.g. l = hash(i, j) for size 7) our generator reads the same nodes.
INCLUSION_NODES = [
    (1, 0, []),
    (2, 0, [(0, 1)]),
    (2, 1, [(0, 0)]),
    (3, 1, [(0, 0), (0, 2)]),
    (7, 0, [(0, 1), (1, 1), (0, 6), (1, 2)]),
    (7, 1, [(0, 0), (1, 1), (0, 6), (1, 2)]),
    (7, 2, [(0, 3), (1, 0), (0, 6), (1, 2)]),
    (7, 3, [(0, 2), (1, 0), (0, 6), (1, 2)]),
    (7, 4, [(0, 5), (0, 6), (2, 0)]),
    (7, 5, [(0, 4), (0, 6), (2, 0)]),
    (7, 6, [(1, 2), (2, 0)]),
    (4, 2, [(0, 3), (1, 0)]),
    (5, 3, [(0, 2), (1, 0), (0, 4)]),
    (6, 3, [(0, 2), (1, 0), (1, 2)]),
    (6, 4, [(0, 5), (2, 0)]),
    (15, 10, [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)]),
    (31, 24, [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)]),
    (95, 81, [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
]

# proof/proof_test.go TestConsistency: (size1, size2) -> node IDs read.
CONSISTENCY_NODES = [
    (1, 2, [(0, 1)]),
    (1, 4, [(0, 1), (1, 1)]),
    (1, 6, [(0, 1), (1, 1), (1, 2)]),
    (2, 3, [(0, 2)]),
    (2, 8, [(1, 1), (2, 1)]),
    (3, 7, [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)]),
    (4, 7, [(0, 6), (1, 2)]),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]),
    (2, 4, [(1, 1)]),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)]),
    (4, 6, [(1, 2)]),
    (1, 7, [(0, 1), (1, 1), (0, 6), (1, 2)]),
    (10, 15, [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)]),
    (24, 31, [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)]),
    (81, 95, [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
]
for _s in (1, 2, 3, 4, 5, 7, 8):  # same size: nothing to read
    CONSISTENCY_NODES.append((_s, _s, []))

BIG = [b"%d" % i for i in range(95)]


@pytest.mark.parametrize(("size", "index", "want"), INCLUSION_NODES)
def test_inclusion_reads_the_go_node_ids(size: int, index: int, want: list) -> None:
    reader = RefNodes(BIG, limit=size)
    got = inclusion_proof(index, size, reader)
    assert sorted(reader.calls) == sorted(want)
    assert got == path(index, BIG[:size])


@pytest.mark.parametrize(("old", "new", "want"), CONSISTENCY_NODES)
def test_consistency_reads_the_go_node_ids(old: int, new: int, want: list) -> None:
    reader = RefNodes(BIG, limit=new)
    got = consistency_proof(old, new, reader)
    assert sorted(reader.calls) == sorted(want)
    assert got == (proof(old, BIG[:new]) if old < new else [])
