"""MemoryBlobStore and FilesystemBlobStore compared with a dict, step by random step.

After the Hypothesis tutorial's ``DatabaseComparison``: every rule runs on both stores and on
the model, and every store must agree with the model after every step.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from vault.blobstore import BlobNotFound, BlobStore
from vault.blobstore_fs import FilesystemBlobStore
from vault.blobstore_memory import MemoryBlobStore

# A handful of names, so that puts overwrite and deletes hit existing blobs.
NAMES = st.sampled_from([f"{i:032x}" for i in range(4)] + ["ab" * 16])
CHUNKS = st.lists(st.binary(max_size=64), max_size=4)


class Interrupted(Exception):
    pass


def interrupted(chunks: list[bytes]) -> Iterator[bytes]:
    yield from chunks
    raise Interrupted


class BlobStoreComparison(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="coffre-blobs-"))
        self.stores: list[BlobStore] = [MemoryBlobStore(), FilesystemBlobStore(self.tmp)]
        self.model: dict[str, bytes] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(name=NAMES, chunks=CHUNKS)
    def put(self, name: str, chunks: list[bytes]) -> None:
        data = b"".join(chunks)
        for store in self.stores:
            info = store.put(name, iter(chunks))
            assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        self.model[name] = data

    @rule(name=NAMES, chunks=CHUNKS)
    def put_interrupted(self, name: str, chunks: list[bytes]) -> None:
        # The model does not change: a failed put leaves the previous blob, or none.
        for store in self.stores:
            with pytest.raises(Interrupted):
                store.put(name, interrupted(chunks))

    @rule(name=NAMES)
    def delete(self, name: str) -> None:
        for store in self.stores:
            store.delete(name)
        self.model.pop(name, None)

    @rule(name=NAMES)
    def open(self, name: str) -> None:
        for store in self.stores:
            if name in self.model:
                assert b"".join(store.open(name)) == self.model[name]
                assert store.size(name) == len(self.model[name])
            else:
                with pytest.raises(BlobNotFound):
                    store.open(name)

    @invariant()
    def names_agree(self) -> None:
        for store in self.stores:
            assert sorted(store.names()) == sorted(self.model)


BlobStoreComparison.TestCase.settings = settings(
    max_examples=30, stateful_step_count=20, deadline=None
)
TestBlobStoreComparison = BlobStoreComparison.TestCase
