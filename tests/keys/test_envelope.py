"""Envelope format v1: round trips, the test vector, and every kind of tampering."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wire.envelope import (
    CHUNK_SIZE,
    HEADER_SIZE,
    MAX_CHUNK_SIZE,
    RECORD_OVERHEAD,
    DataKey,
    _encrypt_with_header,
    ciphertext_size,
    decrypt,
    encrypt,
)
from wire.errors import DecryptionError, IntegrityFailure, InvalidKey

VECTORS = Path(__file__).parent / "vectors" / "envelope_v1.json"
SMALL = 16  # a small chunk size makes multi-record documents cheap to build
RECORD = SMALL + RECORD_OVERHEAD


def seal_doc(plaintext: bytes, key: DataKey, chunk_size: int = SMALL) -> bytes:
    return b"".join(encrypt([plaintext], key, chunk_size))


def open_doc(ciphertext: bytes, key: DataKey) -> bytes:
    return b"".join(decrypt([ciphertext], key))


def split_records(ciphertext: bytes, record: int = RECORD) -> tuple[bytes, list[bytes]]:
    body = ciphertext[HEADER_SIZE:]
    return ciphertext[:HEADER_SIZE], [body[i : i + record] for i in range(0, len(body), record)]


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


# -- data key -------------------------------------------------------------------------


def test_data_key_is_32_bytes_and_never_printed() -> None:
    key = DataKey.generate()
    assert len(bytes(key)) == 32
    assert bytes(key).hex() not in repr(key)
    assert repr(key) == "DataKey(<redacted>)"
    assert key == DataKey(bytes(key))
    assert key != DataKey.generate()


@pytest.mark.parametrize("raw", [b"", b"x" * 31, b"x" * 33, "x" * 32])
def test_data_key_size_is_checked(raw: bytes) -> None:
    with pytest.raises(InvalidKey):
        DataKey(raw)


# -- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 1024 * 1024],
    ids=["0B", "1B", "chunk-1", "chunk", "chunk+1", "3chunks", "1MiB"],
)
def test_round_trip_default_chunk_size(size: int, key: DataKey) -> None:
    plaintext = os.urandom(size)
    ciphertext = b"".join(encrypt([plaintext], key))
    assert len(ciphertext) == ciphertext_size(size)
    assert open_doc(ciphertext, key) == plaintext


def test_output_is_header_then_one_record_per_chunk(key: DataKey) -> None:
    pieces = list(encrypt([b"a" * 10, b"b" * 30], key, SMALL))  # 40 bytes, re-chunked
    assert [len(p) for p in pieces] == [HEADER_SIZE, RECORD, RECORD, 8 + RECORD_OVERHEAD]
    assert pieces[0][:11] == b"COFFRE\x01" + SMALL.to_bytes(4, "big")


def test_empty_document_is_one_final_record(key: DataKey) -> None:
    pieces = list(encrypt([], key))
    assert [len(p) for p in pieces] == [HEADER_SIZE, RECORD_OVERHEAD]
    assert open_doc(b"".join(pieces), key) == b""
    assert open_doc(b"".join(encrypt([b"", b""], key)), key) == b""


def test_exact_multiple_has_no_empty_trailing_record(key: DataKey) -> None:
    ciphertext = seal_doc(b"z" * (2 * SMALL), key)
    assert len(ciphertext) == HEADER_SIZE + 2 * RECORD
    assert open_doc(ciphertext, key) == b"z" * (2 * SMALL)


def test_decrypt_yields_chunk_sized_plaintext(key: DataKey) -> None:
    ciphertext = seal_doc(b"q" * 50, key)
    assert [len(p) for p in decrypt([ciphertext], key)] == [16, 16, 16, 2]


# The SDK's default record was 64 KiB until 2026-11; documents stored then must open
# forever. This ciphertext's hash was computed with the encryptor of that time.
FORMER_DEFAULT = 64 * 1024
FORMER_SHA256 = "892d68416453175f5b2da48b6727dfe83dcb35077b445a9bafede2cd8859a83f"


@pytest.mark.parametrize("piece", [16 * 1024, 100_003, FORMER_DEFAULT + RECORD_OVERHEAD])
def test_envelopes_of_the_former_64_kib_default_still_decrypt(piece: int) -> None:
    key = DataKey(bytes(range(32)))
    plaintext = bytes(i % 251 for i in range(3 * FORMER_DEFAULT + 1000))
    ciphertext = b"".join(
        _encrypt_with_header([plaintext], key, bytes(range(100, 124)), FORMER_DEFAULT)
    )
    assert hashlib.sha256(ciphertext).hexdigest() == FORMER_SHA256
    assert CHUNK_SIZE != FORMER_DEFAULT  # the header, not the default, says how to cut
    incoming = [ciphertext[i : i + piece] for i in range(0, len(ciphertext), piece)]
    assert b"".join(decrypt(incoming, key)) == plaintext


def test_reused_input_buffers_are_copied_not_held(key: DataKey) -> None:
    # Chunk-sized bytes pieces are pushed without a copy; a bytearray its producer
    # refills after each yield must not be, on either side.
    def refilled(total: int, size: int) -> Iterator[bytearray]:
        buffer = bytearray(size)
        for n in range(total):
            buffer[:] = bytes([n]) * size
            yield buffer

    ciphertext = b"".join(encrypt(refilled(4, SMALL), key, SMALL))
    assert open_doc(ciphertext, key) == b"".join(bytes([n]) * SMALL for n in range(4))

    def pieces_in(buffer: bytearray, data: bytes) -> Iterator[bytearray]:
        for i in range(0, len(data), 7):
            buffer[:] = data[i : i + 7]
            yield buffer

    plaintext = os.urandom(5 * SMALL + 3)
    incoming = pieces_in(bytearray(), seal_doc(plaintext, key))
    assert b"".join(decrypt(incoming, key)) == plaintext


def test_chunk_sized_bytes_pieces_round_trip(key: DataKey) -> None:
    plaintext = os.urandom(3 * SMALL)
    pieces = [plaintext[i : i + SMALL] for i in range(0, len(plaintext), SMALL)]
    # mixed: aligned pieces, then a split one, then aligned again
    mixed = [*pieces, plaintext[:5], plaintext[5:SMALL], *pieces]
    produced = list(encrypt(mixed, key, SMALL))
    assert [len(p) for p in produced] == [HEADER_SIZE] + [RECORD] * 7  # the last is final
    assert open_doc(b"".join(produced), key) == plaintext + plaintext[:SMALL] + plaintext


def test_encrypt_accepts_bytearray_and_memoryview(key: DataKey) -> None:
    pieces = [bytearray(b"abc"), memoryview(b"defghijklmnopqrstuvwxyz")]
    assert open_doc(b"".join(encrypt(pieces, key, SMALL)), key) == b"abcdefghijklmnopqrstuvwxyz"


@settings(max_examples=60, deadline=None)
@given(
    plaintext=st.binary(max_size=300),
    chunk_size=st.integers(min_value=1, max_value=64),
    in_cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=8),
    out_cuts=st.lists(st.integers(min_value=0, max_value=800), max_size=8),
)
def test_round_trip_any_size_and_any_piece_boundaries(
    plaintext: bytes, chunk_size: int, in_cuts: list[int], out_cuts: list[int]
) -> None:
    key = DataKey.generate()
    ciphertext = b"".join(encrypt(cut(plaintext, in_cuts), key, chunk_size))
    assert len(ciphertext) == ciphertext_size(len(plaintext), chunk_size)
    assert b"".join(decrypt(cut(ciphertext, out_cuts), key)) == plaintext


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split data at the given offsets (pieces may be empty)."""
    points = sorted({min(c, len(data)) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_same_plaintext_encrypts_differently_each_time(key: DataKey) -> None:
    assert seal_doc(b"same", key) != seal_doc(b"same", key)


@pytest.mark.parametrize("chunk_size", [0, -1, MAX_CHUNK_SIZE + 1])
def test_chunk_size_bounds_are_checked_eagerly(chunk_size: int, key: DataKey) -> None:
    with pytest.raises(ValueError):
        encrypt([b"x"], key, chunk_size)  # no next(): refused at the call


def test_ciphertext_size() -> None:
    assert ciphertext_size(0) == HEADER_SIZE + 17
    assert ciphertext_size(CHUNK_SIZE) == HEADER_SIZE + CHUNK_SIZE + 17
    assert ciphertext_size(CHUNK_SIZE + 1) == HEADER_SIZE + CHUNK_SIZE + 1 + 2 * 17
    assert ciphertext_size(100, 10) == HEADER_SIZE + 100 + 10 * 17
    with pytest.raises(ValueError):
        ciphertext_size(-1)


# -- test vector -----------------------------------------------------------------------


def vector_cases() -> list[dict[str, object]]:
    return json.loads(VECTORS.read_text())["cases"]


@pytest.mark.parametrize("case", vector_cases(), ids=lambda c: c["desc"])
def test_vector_decrypts_to_its_plaintext(case: dict[str, str]) -> None:
    key = DataKey(bytes.fromhex(case["key"]))
    assert open_doc(bytes.fromhex(case["ciphertext"]), key) == bytes.fromhex(case["plaintext"])


@pytest.mark.parametrize("case", vector_cases(), ids=lambda c: c["desc"])
def test_vector_is_what_the_encryptor_produces(case: dict[str, str]) -> None:
    # catches any accidental change of the byte format
    key = DataKey(bytes.fromhex(case["key"]))
    produced = _encrypt_with_header(
        [bytes.fromhex(case["plaintext"])],
        key,
        bytes.fromhex(case["stream_header"]),
        int(case["chunk_size"]),
    )
    assert b"".join(produced).hex() == case["ciphertext"]


# -- tampering --------------------------------------------------------------------------

PLAINTEXT = bytes(range(100))  # 6 full records of 16 bytes + a final one of 4


def test_decryption_error_is_an_opaque_integrity_failure(key: DataKey) -> None:
    with pytest.raises(IntegrityFailure, match=r"^document ciphertext failed verification$"):
        open_doc(b"garbage" * 10, key)


def tampered(kind: str, ciphertext: bytes) -> bytes:
    header, records = split_records(ciphertext)
    if kind == "bad magic":
        return b"C0FFRE" + ciphertext[6:]
    if kind == "bad version":
        return ciphertext[:6] + b"\x02" + ciphertext[7:]
    if kind == "chunk size changed":
        return ciphertext[:10] + bytes([SMALL + 1]) + ciphertext[11:]
    if kind == "huge chunk size":
        return ciphertext[:7] + b"\xff\xff\xff\xff" + ciphertext[11:]
    if kind == "stream header changed":
        return ciphertext[:20] + bytes([ciphertext[20] ^ 1]) + ciphertext[21:]
    if kind == "header only":
        return header
    if kind == "short header":
        return header[:-1]
    if kind == "empty":
        return b""
    if kind == "record dropped":
        return header + b"".join(records[:2] + records[3:])
    if kind == "records reordered":
        return header + b"".join([records[0], records[2], records[1], *records[3:]])
    if kind == "record repeated":
        return header + b"".join([records[0], records[0], *records[1:]])
    if kind == "final record dropped":
        return header + b"".join(records[:-1])
    if kind == "truncated mid-record":
        return ciphertext[:-2]
    if kind == "truncated below a MAC":
        return ciphertext[: -len(records[-1])] + records[-1][: RECORD_OVERHEAD - 1]
    if kind == "trailing byte":
        return ciphertext + b"\x00"
    if kind == "trailing record":
        return ciphertext + records[0]
    raise AssertionError(kind)


TAMPERINGS = [
    "bad magic",
    "bad version",
    "chunk size changed",
    "huge chunk size",
    "stream header changed",
    "header only",
    "short header",
    "empty",
    "record dropped",
    "records reordered",
    "record repeated",
    "final record dropped",
    "truncated mid-record",
    "truncated below a MAC",
    "trailing byte",
    "trailing record",
]


@pytest.mark.parametrize("kind", TAMPERINGS)
def test_tampering_is_refused(kind: str, key: DataKey) -> None:
    with pytest.raises(DecryptionError):
        open_doc(tampered(kind, seal_doc(PLAINTEXT, key)), key)


@pytest.mark.parametrize("size", [0, SMALL, 2 * SMALL])
def test_trailing_bytes_after_a_full_final_record_are_refused(size: int, key: DataKey) -> None:
    ciphertext = seal_doc(b"f" * size, key)
    for extra in (b"\x00", b"\x00" * RECORD, b"\x00" * (RECORD + 1)):
        with pytest.raises(DecryptionError):
            open_doc(ciphertext + extra, key)


def test_records_from_another_document_are_refused(key: DataKey) -> None:
    header_a, records_a = split_records(seal_doc(PLAINTEXT, key))
    _, records_b = split_records(seal_doc(PLAINTEXT, key))
    with pytest.raises(DecryptionError):
        open_doc(header_a + records_a[0] + b"".join(records_b[1:]), key)


def test_wrong_key_is_refused(key: DataKey) -> None:
    with pytest.raises(DecryptionError):
        open_doc(seal_doc(PLAINTEXT, key), DataKey.generate())


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=120), data=st.data())
def test_any_flipped_bit_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    key = DataKey(b"k" * 32)
    ciphertext = bytearray(seal_doc(plaintext, key))
    bit = data.draw(st.integers(min_value=0, max_value=8 * len(ciphertext) - 1), label="bit")
    ciphertext[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        open_doc(bytes(ciphertext), key)


@pytest.mark.parametrize("bad_record", [0, 3, 6])
def test_no_plaintext_of_an_unverified_record_is_yielded(bad_record: int, key: DataKey) -> None:
    header, records = split_records(seal_doc(PLAINTEXT, key))
    records[bad_record] = bytes([records[bad_record][0] ^ 0x80]) + records[bad_record][1:]
    yielded: list[bytes] = []
    with pytest.raises(DecryptionError):
        yielded.extend(decrypt([header, *records], key))
    # only the records before the damaged one came out, exactly as encrypted
    assert b"".join(yielded) == PLAINTEXT[: bad_record * SMALL]


def test_truncated_stream_yields_only_verified_prefix(key: DataKey) -> None:
    header, records = split_records(seal_doc(PLAINTEXT, key))
    yielded: list[bytes] = []
    with pytest.raises(DecryptionError):
        yielded.extend(decrypt([header, *records[:-1]], key))
    assert b"".join(yielded) == PLAINTEXT[: 5 * SMALL]  # record 5 is held until the end
