"""Streaming keeps memory flat: 64 MiB through encrypt and decrypt under 8 MiB peak."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator

import pytest

from wire.envelope import DataKey, ciphertext_size, decrypt, encrypt

TOTAL = 64 * 1024 * 1024
PIECE = 100_003  # deliberately not a multiple of the chunk size


@pytest.mark.slow
def test_64_mib_round_trip_peaks_under_8_mib() -> None:
    key = DataKey.generate()
    block = os.urandom(2 * PIECE)
    sent = hashlib.sha256()
    received = hashlib.sha256()
    ciphertext_bytes = 0

    def source() -> Iterator[bytes]:
        remaining, offset = TOTAL, 0
        while remaining:
            piece = block[offset : offset + min(PIECE, remaining)]
            sent.update(piece)
            remaining -= len(piece)
            offset = (offset + 7919) % PIECE  # vary the content between pieces
            yield piece

    def counted(pieces: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal ciphertext_bytes
        for piece in pieces:
            ciphertext_bytes += len(piece)
            yield piece

    tracemalloc.start()
    try:
        # a pipeline: nothing is ever joined, so memory is a few chunks at a time
        for chunk in decrypt(counted(encrypt(source(), key)), key):
            received.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert received.digest() == sent.digest()
    assert ciphertext_bytes == ciphertext_size(TOTAL)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
