"""Row 3: client encryption and decryption against bare secretstream.

Ours is ``wire.envelope.encrypt`` / ``decrypt`` exactly as the SDK calls them, at the
SDK's record size (``CHUNK_SIZE``): plaintext in ``CHUNK_SIZE`` pieces (the SDK reads a
file that way), the ciphertext back in 64 KiB pieces as a network stream delivers it.
The baseline is libsodium's secretstream through the same PyNaCl bindings over the same
buffers and chunk size, with nothing else: no re-chunking, no envelope header.
"""

from __future__ import annotations

import os

from nacl import bindings

from bench.env import BenchEnv
from bench.report import Report, Row
from bench.timing import interleaved, median
from wire.envelope import CHUNK_SIZE, DataKey, decrypt, encrypt

MB = 1_000_000
#: what a network stream hands the decryptor at a time
NETWORK_PIECE = 64 * 1024


def run(env: BenchEnv, report: Report) -> None:
    """Measure encryption (3a) and decryption (3b) throughput."""
    size = 8 * 1024 * 1024 if env.quick else 128 * 1024 * 1024
    reps = 3 if env.quick else 7
    pieces = [os.urandom(CHUNK_SIZE) for _ in range(size // CHUNK_SIZE)]
    key = DataKey.generate()
    raw_key = bytes(key)
    ad = b"COFFRE\x01" + CHUNK_SIZE.to_bytes(4, "big")
    push = bindings.crypto_secretstream_xchacha20poly1305_push
    pull = bindings.crypto_secretstream_xchacha20poly1305_pull
    tag_message = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    tag_final = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL
    chunk = f"{CHUNK_SIZE // 1024} KiB chunks"

    def ours_encrypt() -> None:
        for _ in encrypt(pieces, key):
            pass

    def bare_encrypt() -> None:
        state = bindings.crypto_secretstream_xchacha20poly1305_state()
        bindings.crypto_secretstream_xchacha20poly1305_init_push(state, raw_key)
        last = len(pieces) - 1
        for n, piece in enumerate(pieces):
            push(state, piece, ad, tag_final if n == last else tag_message)

    enc, enc_base = interleaved(ours_encrypt, bare_encrypt, reps)
    report.add(
        Row(
            "3a",
            f"client encryption (envelope v1, {chunk})",
            "MB/s",
            size / MB / median(enc),
            size / MB / median(enc_base),
            f"bare secretstream push, {chunk}",
            ">=",
            0.9,
            notes=[f"{size // 1024**2} MiB in {CHUNK_SIZE // 1024} KiB pieces, median of {reps}"],
        )
    )

    # The ciphertext as a network stream delivers it: 64 KiB pieces across record bounds.
    blob = b"".join(encrypt(pieces, key))
    incoming = [blob[i : i + NETWORK_PIECE] for i in range(0, len(blob), NETWORK_PIECE)]
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, raw_key)
    records = [
        push(state, piece, ad, tag_final if n == len(pieces) - 1 else tag_message)
        for n, piece in enumerate(pieces)
    ]

    def ours_decrypt() -> None:
        for _ in decrypt(incoming, key):
            pass

    def bare_decrypt() -> None:
        st = bindings.crypto_secretstream_xchacha20poly1305_state()
        bindings.crypto_secretstream_xchacha20poly1305_init_pull(st, header, raw_key)
        for record in records:
            pull(st, record, ad)

    dec, dec_base = interleaved(ours_decrypt, bare_decrypt, reps)
    report.add(
        Row(
            "3b",
            f"client decryption (envelope v1, {chunk})",
            "MB/s",
            size / MB / median(dec),
            size / MB / median(dec_base),
            f"bare secretstream pull, {chunk}",
            ">=",
            0.9,
            notes=[
                "ciphertext fed in 64 KiB network-sized pieces (not record-aligned); "
                "the baseline pulls pre-split records"
            ],
        )
    )
