"""The chain-heads map: which leaf is the latest of each patient's and each actor's chain.

Every trail entry of format 2 carries the root of this map *after* itself, so a signed
checkpoint of size ``N`` pins, through leaf ``N - 1``, the head of every chain at ``N``.
That is what makes a one-patient or one-actor export's completeness checkable against
the global tree: a shortened export ends before the head the map names.

The map is a fixed-depth binary Merkle tree over ``2 ** DEPTH`` buckets; a chain key
(``"<space id>"`` or ``"<role>:<actor id>"``) falls in the bucket named by the first
``DEPTH`` bits of its SHA-256. A bucket's leaf is
``leaf_hash(canonical JSON {"bucket": b, "heads": {chain key: head leaf index}})``; an
empty bucket's is ``EMPTY_BUCKET``; inner nodes are ``node_hash(left, right)`` (the log's
own RFC 9162 hashing, in a separate tree). A proof for a key is its bucket's whole
content plus ``DEPTH`` sibling hashes, bottom up: it proves both that a chain's head is
leaf ``h`` and that a chain has no entry at all.

Values are leaf *indices*, not hashes, so an entry can commit the map that includes
itself. Pure: ``hashlib`` and ``wire.canonical_fast.canonical_bytes`` (``canonical_json``'s bytes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from wire.canonical_fast import canonical_bytes
from wire.errors import IntegrityFailure
from wire.merkle.hasher import HASH_SIZE, NODE_PREFIX, leaf_hash, node_hash

#: bits of SHA-256(chain key) naming its bucket: 65,536 buckets, 16 hashes per proof
DEPTH = 16
BUCKETS = 1 << DEPTH
#: the leaf hash of an empty bucket
EMPTY_BUCKET = leaf_hash(b"coffre-trail heads: empty bucket")


def _defaults() -> list[bytes]:
    out = [EMPTY_BUCKET]
    for _ in range(DEPTH):
        out.append(node_hash(out[-1], out[-1]))
    return out


#: ``EMPTY[level]``: the hash of a subtree of ``2 ** level`` empty buckets
EMPTY: tuple[bytes, ...] = tuple(_defaults())


class HeadsProofError(IntegrityFailure):
    """A chain-heads proof is malformed (wrong bucket, wrong length, not hashes)."""

    code = "trail-heads-proof-malformed"


def bucket_of(chain: str) -> int:
    """The bucket of a chain key: the first ``DEPTH`` bits of its SHA-256."""
    digest = hashlib.sha256(chain.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - DEPTH)


def bucket_leaf(bucket: int, heads: Mapping[str, int]) -> bytes:
    """The leaf hash of a bucket holding ``heads`` (chain key -> head leaf index)."""
    if not heads:
        return EMPTY_BUCKET
    # surrogatepass: a verifier may be handed a lone surrogate; it then fails to match
    return leaf_hash(canonical_bytes({"bucket": bucket, "heads": dict(heads)}, "surrogatepass"))


def root_from_bucket(bucket: int, heads: Mapping[str, int], siblings: Sequence[bytes]) -> bytes:
    """The map root a bucket's content and its ``DEPTH`` sibling hashes lead to."""
    if len(siblings) != DEPTH or any(
        not isinstance(h, bytes) or len(h) != HASH_SIZE for h in siblings
    ):
        raise HeadsProofError(f"a heads proof is {DEPTH} hashes of {HASH_SIZE} bytes")
    if not 0 <= bucket < BUCKETS:
        raise HeadsProofError(f"bucket {bucket} is outside [0, {BUCKETS})")
    h, index = bucket_leaf(bucket, heads), bucket
    for sibling in siblings:
        h = node_hash(sibling, h) if index & 1 else node_hash(h, sibling)
        index >>= 1
    return h


#: ``nodes(ids)``: stored hashes of map nodes ``(level, index)``; absent ones are empty
NodeFetch = Callable[[list[tuple[int, int]]], dict[tuple[int, int], bytes]]


def path_ids(bucket: int) -> list[tuple[int, int]]:
    """The nodes a bucket's update or proof reads: its path and every sibling on it."""
    ids: list[tuple[int, int]] = []
    for level in range(DEPTH + 1):
        index = bucket >> level
        ids.append((level, index))
        if level < DEPTH:
            ids.append((level, index ^ 1))
    return ids


class HeadsTree:
    """The map's node hashes as far as they were read, with the changes made since.

    Built over a ``fetch`` of stored nodes (absent nodes are empty subtrees); ``load``
    prefetches the paths of the buckets a batch will touch, in one call. ``set_bucket``
    recomputes one bucket's path, O(``DEPTH``) hashes; ``changed`` lists the nodes to
    store. Not thread-safe; one per batch.
    """

    def __init__(self, fetch: NodeFetch) -> None:
        self._fetch = fetch
        # one dict per level, index -> hash: the hot loop looks nodes up without
        # building a (level, index) tuple each time
        self._levels: list[dict[int, bytes]] = [{} for _ in range(DEPTH + 1)]
        #: buckets whose whole path was set: their nodes are listed by ``changed``
        self._set_buckets: set[int] = set()
        self._dirty: set[tuple[int, int]] = set()

    def load(self, buckets: Iterable[int]) -> None:
        """Fetch, in one call, every node the given buckets' paths need."""
        levels = self._levels
        wanted = {
            node for b in set(buckets) for node in path_ids(b) if node[1] not in levels[node[0]]
        }
        if wanted:
            found = self._fetch(sorted(wanted))
            for level, index in wanted:
                levels[level][index] = found.get((level, index), EMPTY[level])

    def node(self, level: int, index: int) -> bytes:
        """One node's hash (fetched if not loaded)."""
        if index not in self._levels[level]:
            self.load([index << level])
        return self._levels[level][index]

    def root(self) -> bytes:
        """The map's root."""
        return self.node(DEPTH, 0)

    def set_bucket(self, bucket: int, heads: Mapping[str, int]) -> None:
        """Give ``bucket`` the content ``heads`` and recompute the path to the root."""
        # The trail's hot loop (two paths per entry): node_hash inlined, lookups local,
        # the path's nodes marked changed once (by bucket), not node by node.
        levels, sha256 = self._levels, hashlib.sha256
        h = bucket_leaf(bucket, heads)
        index = bucket
        levels[0][index] = h
        for level in range(DEPTH):
            sibling = levels[level].get(index ^ 1)
            if sibling is None:
                sibling = self.node(level, index ^ 1)
            h = sha256(NODE_PREFIX + sibling + h if index & 1 else NODE_PREFIX + h + sibling)
            h = h.digest()
            index >>= 1
            levels[level + 1][index] = h
        self._set_buckets.add(bucket)

    def proof(self, bucket: int) -> list[bytes]:
        """The ``DEPTH`` sibling hashes of ``bucket``, bottom up."""
        return [self.node(level, (bucket >> level) ^ 1) for level in range(DEPTH)]

    def changed(self) -> list[tuple[int, int, bytes]]:
        """``(level, index, hash)`` of every node set since this tree was built."""
        dirty = set(self._dirty)
        for bucket in self._set_buckets:
            dirty.update((level, bucket >> level) for level in range(DEPTH + 1))
        levels = self._levels
        return [(level, index, levels[level][index]) for level, index in sorted(dirty)]

    def _put(self, level: int, index: int, h: bytes) -> None:
        self._levels[level][index] = h
        self._dirty.add((level, index))


def as_heads(value: Any) -> dict[str, int] | None:
    """A bucket's content as a verifier receives it, or None if it is not one."""
    if not isinstance(value, dict):
        return None
    for key, head in value.items():
        if not isinstance(key, str) or isinstance(head, bool) or not isinstance(head, int):
            return None
        if head < 0:
            return None
    return value
