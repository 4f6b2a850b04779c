"""Generate ``testdata/{inclusion,consistency}/*.json``: one mutation per file.

Run from anywhere: ``.venv/bin/python tests/merkle/make_vectors.py``. Stale ``*.json``
files in the two folders are removed first, so the output is exactly ``build_vectors()``
(``test_merkle_vectors.py`` checks the committed files still match it).

Modelled on transparency-dev/merkle ``cmd/proofgen/main.go``: take a known-good proof,
write it as ``happy-path``, then write one file per corruption. Everything comes from
``merkle_reference`` (RFC 9162's recursive definitions), never from ``wire.merkle``:
good proofs from PATH / PROOF, and each vector's expected outcome (``wantErr`` and
``wantErrType``, "ProofError" or "RootMismatch") from the reference verifiers, so the
vectors check the production verifier against an independent one. All byte strings are
hex; ``proof`` lists hashes leaf-first (inclusion) / as RFC 9162 orders them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from merkle_reference import (
    STANDARD_LEAVES,
    mth,
    path,
    proof,
    ref_consistency_verify,
    ref_inclusion_verify,
    ref_leaf,
    sha256,
)

TESTDATA = Path(__file__).resolve().parent / "testdata"
# Same "random" hash as transparency-dev/merkle's tests (sha256SomeHash).
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_ROOT = sha256(b"")
# A second, larger tree for proofs with several levels of right-edge rehashing.
BIG_LEAVES = [b"coffre-trail-%d" % i for i in range(100)]

# Descriptions of the vectors that must verify; every other one must fail, except that
# a proof does not bind the tree size by itself: where the path has the same shape for
# size + 1, the same proof and root still verify. The size is authenticated by the signed
# tree head that carries the root; these vectors pin that down (with a "note").
GOOD = {"happy path", "single entry", "both trees empty", "empty old tree", "same size"}
SAME_SHAPE = {"tree size + 1", "new size + 1"}
SAME_SHAPE_NOTE = "verifies: RFC 9162 proofs bind the root, and only the STH binds the size"

# (name, tree, leaf index, tree size)
INCLUSION_CASES = [
    ("leaf0-of-1", STANDARD_LEAVES, 0, 1),
    ("leaf0-of-8", STANDARD_LEAVES, 0, 8),
    ("leaf5-of-8", STANDARD_LEAVES, 5, 8),
    ("leaf2-of-3", STANDARD_LEAVES, 2, 3),
    ("leaf1-of-5", STANDARD_LEAVES, 1, 5),
    ("leaf6-of-7", STANDARD_LEAVES, 6, 7),
    ("big-leaf81-of-95", BIG_LEAVES, 81, 95),
]
# (name, tree, old size, new size)
CONSISTENCY_CASES = [
    ("1-to-8", STANDARD_LEAVES, 1, 8),
    ("6-to-8", STANDARD_LEAVES, 6, 8),
    ("2-to-5", STANDARD_LEAVES, 2, 5),
    ("6-to-7", STANDARD_LEAVES, 6, 7),
    ("3-to-7", STANDARD_LEAVES, 3, 7),
    ("4-to-7", STANDARD_LEAVES, 4, 7),
    ("big-81-to-95", BIG_LEAVES, 81, 95),
]


def _flip(h: bytes, bit: int) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def _inclusion(desc: str, i: int, n: int, leaf: bytes, root: bytes, p: list[bytes]) -> dict:
    err = ref_inclusion_verify(leaf, i, n, p, root)
    return {
        "desc": desc,
        "leafIndex": i,
        "treeSize": n,
        "leafHash": leaf.hex(),
        "root": root.hex(),
        "proof": [h.hex() for h in p],
        "wantErr": err is not None,
        "wantErrType": err,
    }


def _consistency(desc: str, m: int, n: int, r1: bytes, r2: bytes, p: list[bytes]) -> dict:
    err = ref_consistency_verify(m, n, r1, r2, p)
    return {
        "desc": desc,
        "oldSize": m,
        "newSize": n,
        "oldRoot": r1.hex(),
        "newRoot": r2.hex(),
        "proof": [h.hex() for h in p],
        "wantErr": err is not None,
        "wantErrType": err,
    }


def inclusion_probes(i: int, n: int, leaf: bytes, root: bytes, p: list[bytes]) -> list[dict]:
    """The happy path and one corruption per probe (cf. proofgen's invalidInclusionProof)."""
    probes = [
        ("happy path", i, n, leaf, root, p),
        ("leaf index - 1", i - 1, n, leaf, root, p),
        ("leaf index + 1", i + 1, n, leaf, root, p),
        ("leaf index xor 2", i ^ 2, n, leaf, root, p),
        ("leaf index equals tree size", n, n, leaf, root, p),
        ("tree size * 2", i, n * 2, leaf, root, p),
        ("tree size div 2", i, n // 2, leaf, root, p),
        ("tree size + 1", i, n + 1, leaf, root, p),
        ("wrong leaf", i, n, ref_leaf(b"WrongLeaf"), root, p),
        ("leaf hash not 32 bytes", i, n, b"WrongLeaf", root, p),
        ("empty tree root", i, n, leaf, EMPTY_ROOT, p),
        ("random root", i, n, leaf, SOME_HASH, p),
        ("trailing garbage", i, n, leaf, root, [*p, b""]),
        ("trailing root", i, n, leaf, root, [*p, root]),
        ("preceding garbage", i, n, leaf, root, [b"", *p]),
        ("preceding root", i, n, leaf, root, [root, *p]),
    ]
    if leaf != root:
        probes.append(("swapped leaf and root", i, n, root, leaf, p))
    for k in range(len(p)):
        probes.append((f"modified proof {k} bit 3", i, n, leaf, root, _with(p, k, _flip(p[k], 3))))
        probes.append((f"short proof element {k}", i, n, leaf, root, _with(p, k, p[k][:31])))
    if p:
        probes.append(("removed component", i, n, leaf, root, p[:-1]))
        probes.append(("empty proof", i, n, leaf, root, []))
    if len(p) > 1:
        probes.append(("inserted component", i, n, leaf, root, [p[0], SOME_HASH, *p[1:]]))
        probes.append(("reversed proof", i, n, leaf, root, p[::-1]))
    return [_inclusion(*probe) for probe in probes]


def consistency_probes(m: int, n: int, r1: bytes, r2: bytes, p: list[bytes]) -> list[dict]:
    """The happy path and one corruption per probe (cf. proofgen's consistency probes)."""
    probes = [
        ("happy path", m, n, r1, r2, p),
        ("old size - 1", m - 1, n, r1, r2, p),
        ("old size + 1", m + 1, n, r1, r2, p),
        ("old size xor 2", m ^ 2, n, r1, r2, p),
        ("new size * 2", m, n * 2, r1, r2, p),
        ("new size div 2", m, n // 2, r1, r2, p),
        ("new size + 1", m, n + 1, r1, r2, p),
        ("wrong old root", m, n, SOME_HASH, r2, p),
        ("wrong new root", m, n, r1, SOME_HASH, p),
        ("old root not 32 bytes", m, n, b"WrongRoot", r2, p),
        ("swapped roots", m, n, r2, r1, p),
        ("empty proof", m, n, r1, r2, []),
        ("truncated proof", m, n, r1, r2, p[:-1]),
        ("trailing garbage", m, n, r1, r2, [*p, b""]),
        ("trailing old root", m, n, r1, r2, [*p, r1]),
        ("trailing new root", m, n, r1, r2, [*p, r2]),
        ("preceding garbage", m, n, r1, r2, [b"", *p]),
        ("preceding old root", m, n, r1, r2, [r1, *p]),
        ("preceding new root", m, n, r1, r2, [r2, *p]),
        ("preceding proof 0", m, n, r1, r2, [p[0], *p]),
    ]
    for k in range(len(p)):
        probes.append((f"modified proof {k} bit 4", m, n, r1, r2, _with(p, k, _flip(p[k], 4))))
    if len(p) > 1:
        probes.append(("reversed proof", m, n, r1, r2, p[::-1]))
    return [_consistency(*probe) for probe in probes]


def edge_consistency() -> list[dict]:
    """Sizes 0 and equal sizes, where the proof is empty and only the roots count."""
    r5, r1 = mth(STANDARD_LEAVES[:5]), mth(STANDARD_LEAVES[:1])
    return [
        _consistency("both trees empty", 0, 0, EMPTY_ROOT, EMPTY_ROOT, []),
        _consistency("empty new root differs", 0, 0, EMPTY_ROOT, r1, []),
        _consistency("empty old tree", 0, 5, EMPTY_ROOT, r5, []),
        _consistency("empty old tree with non-empty root", 0, 5, r1, r5, []),
        _consistency("empty old tree with a proof", 0, 5, EMPTY_ROOT, r5, [r5]),
        _consistency("same size", 5, 5, r5, r5, []),
        _consistency("same size different roots", 5, 5, r5, r1, []),
        _consistency("same size with a proof", 5, 5, r5, r5, [r5]),
        _consistency("old size larger than new", 5, 1, r5, r1, []),
        _consistency("negative old size", -1, 5, r1, r5, []),
    ]


def edge_inclusion() -> list[dict]:
    """Trees of 0 and 1 leaves (cf. verify_test.go TestVerifyInclusionSingleEntry)."""
    h = ref_leaf(b"data")
    return [
        _inclusion("single entry", 0, 1, h, h, []),
        _inclusion("single entry with a proof", 0, 1, h, h, [h]),
        _inclusion("single entry empty leaf hash", 0, 1, b"", h, []),
        _inclusion("single entry empty root", 0, 1, h, b"", []),
        _inclusion("empty tree", 0, 0, h, EMPTY_ROOT, []),
        _inclusion("index past single entry", 2, 1, h, h, []),
    ]


def build_vectors() -> dict[str, dict[str, Any]]:
    """Every vector, keyed by its path under ``testdata/``."""
    out: dict[str, dict[str, Any]] = {}
    for name, tree, i, n in INCLUSION_CASES:
        vecs = inclusion_probes(i, n, ref_leaf(tree[i]), mth(tree[:n]), path(i, tree[:n]))
        for v in vecs:
            out[f"inclusion/{name}--{_slug(v['desc'])}.json"] = v
    for v in edge_inclusion():
        out[f"inclusion/edge--{_slug(v['desc'])}.json"] = v
    for name, tree, m, n in CONSISTENCY_CASES:
        vecs = consistency_probes(m, n, mth(tree[:m]), mth(tree[:n]), proof(m, tree[:n]))
        for v in vecs:
            out[f"consistency/{name}--{_slug(v['desc'])}.json"] = v
    for v in edge_consistency():
        out[f"consistency/edge--{_slug(v['desc'])}.json"] = v
    for rel, v in out.items():  # the reference accepts good proofs and nothing else
        if v["desc"] in SAME_SHAPE and not v["wantErr"]:
            v["note"] = SAME_SHAPE_NOTE
        else:
            assert v["wantErr"] == (v["desc"] not in GOOD), rel
    return out


def _with(p: list[bytes], k: int, h: bytes) -> list[bytes]:
    return [*p[:k], h, *p[k + 1 :]]


def _slug(desc: str) -> str:
    for op, word in ((" - ", " minus "), (" + ", " plus "), (" * ", " times ")):
        desc = desc.replace(op, word)
    return desc.replace(" ", "-")


def main() -> int:
    vectors = build_vectors()
    for folder in ("inclusion", "consistency"):
        (TESTDATA / folder).mkdir(parents=True, exist_ok=True)
        for stale in (TESTDATA / folder).glob("*.json"):
            stale.unlink()
    for rel, vector in vectors.items():
        (TESTDATA / rel).write_text(json.dumps(vector, indent=2) + "\n")
    print(f"wrote {len(vectors)} vectors under {TESTDATA}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
