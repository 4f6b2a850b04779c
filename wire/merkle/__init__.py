"""The audit trail's Merkle tree, as RFC 9162 (Certificate Transparency 2.0) defines it.

Four small modules, generation kept apart from verification (as transparency-dev/merkle
does):

* ``hasher``  leaf / node / empty-tree hashes and the root of a list of leaf hashes;
* ``proof``   inclusion and consistency proof *generation* from a ``node(level, index)``
              reader of stored complete subtrees, O(log n) reads per proof, and
              ``nodes_read`` to name those reads up front (one query per proof);
* ``verify``  proof *verification* from hashes alone, failing with ``RootMismatch`` or
              ``ProofError`` (both ``IntegrityFailure``); ``InclusionVerifier`` checks
              many leaves of one tree, O(1) hashes each for consecutive leaves;
* ``tree``    ``CompactTree``, the append-only frontier that emits each completed
              subtree so a projection can store it.

Pure functions over ``bytes`` and ``hashlib``; no I/O.
"""

from __future__ import annotations

from wire.merkle.hasher import HASH_SIZE, empty_root, leaf_hash, node_hash, root_from_leaf_hashes
from wire.merkle.proof import (
    NodeReader,
    consistency_proof,
    inclusion_proof,
    nodes_read,
    perfect_subtrees,
    root,
)
from wire.merkle.tree import CompactTree, Node, frontier_ids
from wire.merkle.verify import (
    InclusionVerifier,
    ProofError,
    RootMismatch,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "HASH_SIZE",
    "CompactTree",
    "InclusionVerifier",
    "Node",
    "NodeReader",
    "ProofError",
    "RootMismatch",
    "consistency_proof",
    "empty_root",
    "frontier_ids",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "nodes_read",
    "perfect_subtrees",
    "root",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]
