"""Client-side document encryption (envelope format v1) and data-key sealing.

A document is encrypted by the uploading client under a fresh :class:`DataKey` with
libsodium's secretstream (XChaCha20-Poly1305) in fixed-size chunks, so memory stays
flat whatever the document size. The data key then travels only sealed
(``crypto_box_seal``) to an X25519 public key. The byte format is specified in
``docs/envelope.md``; in short::

    header  = b"COFFRE" | 0x01 | chunk_size (uint32 BE) | secretstream header (24 B)
    records = secretstream(chunk_i, ad=header[:11]) ...   each len(chunk_i) + 17 bytes

Every record but the last holds exactly ``chunk_size`` plaintext bytes, and only the
last carries ``TAG_FINAL``, so record boundaries need no length prefixes and both
truncation and trailing garbage are detected.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections import deque
from collections.abc import Iterable, Iterator

from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from wire.errors import DecryptionError, InvalidKey

__all__ = [
    "CHUNK_SIZE",
    "HEADER_SIZE",
    "MAX_CHUNK_SIZE",
    "RECORD_OVERHEAD",
    "SEALED_KEY_SIZE",
    "DataKey",
    "ciphertext_size",
    "decrypt",
    "encrypt",
    "reader_key_id",
    "seal",
    "unseal",
]

MAGIC = b"COFFRE"
VERSION = 1
#: default plaintext bytes per record. 256 KiB: the fixed Python cost per record (a
#: generator step, a join, a tag check) falls below a few per cent of libsodium's work,
#: while a stream still holds only a few chunks. Envelopes made with 64 KiB (the
#: default until 2026-11) still decrypt: the size is read from each header.
CHUNK_SIZE = 256 * 1024
#: the decryptor buffers one record before it can verify it, so a hostile header must
#: not be able to make it buffer gigabytes: chunk sizes above this are refused.
MAX_CHUNK_SIZE = 4 * 1024 * 1024

_PREFIX = struct.Struct(">6sBI")  # magic, version, chunk size: bound as AD of every record
_STREAM_HEADER_SIZE = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
#: bytes before the first record
HEADER_SIZE = _PREFIX.size + _STREAM_HEADER_SIZE
#: ciphertext bytes added to each record (1 tag byte + 16 MAC bytes)
RECORD_OVERHEAD = bindings.crypto_secretstream_xchacha20poly1305_ABYTES
_TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL

_KEY_SIZE = bindings.crypto_secretstream_xchacha20poly1305_KEYBYTES
_X25519_SIZE = 32
#: a data key sealed with crypto_box_seal: ephemeral public key (32) + MAC (16) + key (32)
SEALED_KEY_SIZE = bindings.crypto_box_SEALBYTES + _KEY_SIZE

_DOCUMENT_FAILED = "document ciphertext failed verification"
_SEALED_FAILED = "sealed data key failed verification"


class DataKey:
    """A document data key: 32 random bytes, never printed.

    ``bytes(key)`` gives the raw key; ``repr`` never does, so a key that slips into a
    log line or a traceback stays secret.
    """

    __slots__ = ("_key",)

    SIZE = _KEY_SIZE

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != self.SIZE:
            raise InvalidKey(f"a data key is exactly {self.SIZE} bytes")
        self._key = key

    @classmethod
    def generate(cls) -> DataKey:
        """A fresh random data key (one per document version)."""
        return cls(os.urandom(cls.SIZE))

    def __bytes__(self) -> bytes:
        return self._key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataKey):
            return NotImplemented
        # constant time: equality of secrets must not leak through timing
        return hmac.compare_digest(self._key, other._key)

    __hash__ = None  # type: ignore[assignment]  # secrets are not dict keys

    def __repr__(self) -> str:
        return "DataKey(<redacted>)"


def ciphertext_size(plaintext_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Exact size of the v1 ciphertext of a ``plaintext_size``-byte document.

    An empty document still has one (final) record.
    """
    _check_chunk_size(chunk_size)
    if plaintext_size < 0:
        raise ValueError("plaintext_size must be >= 0")
    records = max(1, -(-plaintext_size // chunk_size))
    return HEADER_SIZE + plaintext_size + records * RECORD_OVERHEAD


def encrypt(chunks: Iterable[bytes], key: DataKey, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Encrypt a document given as pieces of any size; yield the v1 ciphertext.

    The first item is the header, then one record per ``chunk_size`` bytes of
    plaintext (input pieces are re-chunked). Memory use is about one chunk plus the
    largest input piece. Arguments are checked now, not on first ``next()``.
    """
    _check_chunk_size(chunk_size)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    # libsodium picks the random stream header (and so the nonce) itself
    stream_header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, _key_bytes(key))
    return _encrypt_records(chunks, state, stream_header, chunk_size)


def _encrypt_with_header(
    chunks: Iterable[bytes], key: DataKey, stream_header: bytes, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Like :func:`encrypt` with a chosen secretstream header. TESTS ONLY (vectors).

    .. warning:: reusing a header with the same key reuses the nonce; never call this
       outside test-vector generation.
    """
    _check_chunk_size(chunk_size)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    # init_pull derives exactly the state init_push would have derived from this
    # header (libsodium: hchacha20 subkey + nonce from the header, counter reset)
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, stream_header, _key_bytes(key))
    return _encrypt_records(chunks, state, stream_header, chunk_size)


def _encrypt_records(
    chunks: Iterable[bytes],
    state: bindings.crypto_secretstream_xchacha20poly1305_state,
    stream_header: bytes,
    chunk_size: int,
) -> Iterator[bytes]:
    prefix = _PREFIX.pack(MAGIC, VERSION, chunk_size)
    yield prefix + stream_header
    # A full chunk is only pushed once more data exists, because the last chunk (even a
    # full one) must carry TAG_FINAL instead of TAG_MESSAGE: ``held`` waits for that.
    held: bytes | None = None
    pending = bytearray()
    for piece in chunks:
        if not pending and type(piece) is bytes and len(piece) == chunk_size:
            # The common case (a file read in chunk-sized pieces): the piece itself is
            # the chunk, pushed without a copy. Only immutable bytes are held this way.
            if held is not None:
                yield _push(state, held, prefix, _TAG_MESSAGE)
            held = piece
            continue
        view = memoryview(piece).cast("B")
        while view:
            if held is not None:
                yield _push(state, held, prefix, _TAG_MESSAGE)
                held = None
            if not pending and len(view) >= chunk_size:
                held = bytes(view[:chunk_size])  # one copy, not two through ``pending``
                view = view[chunk_size:]
                continue
            take = chunk_size - len(pending)
            pending += view[:take]
            view = view[take:]
            if len(pending) == chunk_size:
                held = bytes(pending)
                pending.clear()
    yield _push(state, held if held is not None else bytes(pending), prefix, _TAG_FINAL)


def _push(
    state: bindings.crypto_secretstream_xchacha20poly1305_state,
    chunk: bytes,
    prefix: bytes,
    tag: int,
) -> bytes:
    return bindings.crypto_secretstream_xchacha20poly1305_push(state, chunk, prefix, tag)


def decrypt(chunks: Iterable[bytes], key: DataKey) -> Iterator[bytes]:
    """Decrypt a v1 ciphertext given as pieces of any size; yield plaintext chunks.

    Raises :class:`DecryptionError` (opaque) on a bad magic or version, any flipped
    bit, a dropped, reordered or repeated record, a missing final record (truncation),
    bytes after the final record, or the wrong key.

    .. warning:: Streaming means plaintext of the records that *did* verify is yielded
       before a later record fails. Never act on the output until the iterator is
       exhausted without error: write it to a temporary file and rename it into place
       only on success (delete it on ``DecryptionError``). No record's plaintext is
       ever yielded before that record verified.
    """
    return _decrypt_records(iter(chunks), _key_bytes(key))


class _Pieces:
    """Incoming ciphertext pieces, cut into records with one copy per byte.

    Network pieces are not record-aligned. Appending them to a bytearray and slicing
    records out of it copies every byte three times; keeping the pieces and joining
    exactly one record's worth (a memoryview for a split piece) copies it once.
    """

    def __init__(self) -> None:
        self._pieces: deque[bytes | memoryview] = deque()
        self.size = 0

    def add(self, piece: bytes) -> None:
        """Queue ``piece``; a mutable buffer is copied (its owner may reuse it)."""
        if type(piece) is not bytes:
            piece = bytes(piece)
        if piece:
            self._pieces.append(piece)
            self.size += len(piece)

    def take(self, n: int) -> bytes:
        """The next ``n`` queued bytes (``n`` <= :attr:`size`)."""
        parts: list[bytes | memoryview] = []
        left = n
        while left:
            piece = self._pieces.popleft()
            if len(piece) <= left:
                parts.append(piece)
                left -= len(piece)
            else:
                view = memoryview(piece)
                parts.append(view[:left])
                self._pieces.appendleft(view[left:])
                left = 0
        self.size -= n
        if len(parts) == 1 and type(parts[0]) is bytes:
            return parts[0]  # a record-aligned piece: no copy at all
        return b"".join(parts)


def _decrypt_records(chunks: Iterator[bytes], key: bytes) -> Iterator[bytes]:
    buf = _Pieces()
    for piece in chunks:
        buf.add(piece)
        if buf.size >= HEADER_SIZE:
            break
    if buf.size < HEADER_SIZE:
        raise DecryptionError(_DOCUMENT_FAILED)
    header = buf.take(HEADER_SIZE)
    magic, version, chunk_size = _PREFIX.unpack_from(header)
    if magic != MAGIC or version != VERSION or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError(_DOCUMENT_FAILED)
    prefix = header[: _PREFIX.size]
    stream_header = header[_PREFIX.size :]
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, stream_header, key)

    record_size = chunk_size + RECORD_OVERHEAD
    while True:
        # with more than one record's worth buffered, the first record cannot be
        # the last one, so it must be a full TAG_MESSAGE record
        while buf.size > record_size:
            yield _pull(state, buf.take(record_size), prefix, _TAG_MESSAGE)
        piece = next(chunks, None)
        if piece is None:
            break
        buf.add(piece)
    # end of input: what is left must be exactly one record carrying TAG_FINAL
    yield _pull(state, buf.take(buf.size), prefix, _TAG_FINAL)


def _pull(
    state: bindings.crypto_secretstream_xchacha20poly1305_state,
    record: bytes,
    prefix: bytes,
    expected_tag: int,
) -> bytes:
    if len(record) < RECORD_OVERHEAD:
        raise DecryptionError(_DOCUMENT_FAILED)
    try:
        plaintext, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, record, prefix)
    except CryptoError:
        raise DecryptionError(_DOCUMENT_FAILED) from None
    # TAG_FINAL too early means trailing bytes; TAG_MESSAGE last means truncation
    if tag != expected_tag:
        raise DecryptionError(_DOCUMENT_FAILED)
    return plaintext


def seal(data_key: DataKey, public_key: bytes) -> bytes:
    """Seal ``data_key`` to an X25519 public key (``crypto_box_seal``, anonymous sender).

    Returns :data:`SEALED_KEY_SIZE` bytes that only the matching secret key opens.
    """
    if not isinstance(public_key, bytes) or len(public_key) != _X25519_SIZE:
        raise InvalidKey(f"a public key is exactly {_X25519_SIZE} bytes")
    return SealedBox(PublicKey(public_key)).encrypt(_key_bytes(data_key))


def unseal(sealed: bytes, secret_key: bytes, public_key: bytes | None = None) -> DataKey:
    """Open a data key sealed by :func:`seal` with the recipient's X25519 secret key.

    ``public_key``, the secret's public half when the caller holds it (a key store
    does), saves deriving it: an X25519 base-point multiplication, ≈ 18 µs here, on
    every read. A wrong one opens nothing: the box's nonce is derived from it.

    Raises :class:`DecryptionError` if ``sealed`` was not sealed to this key pair or
    was altered.
    """
    if not isinstance(secret_key, bytes) or len(secret_key) != _X25519_SIZE:
        raise InvalidKey(f"a secret key is exactly {_X25519_SIZE} bytes")
    if public_key is not None and (
        not isinstance(public_key, bytes) or len(public_key) != _X25519_SIZE
    ):
        raise InvalidKey(f"a public key is exactly {_X25519_SIZE} bytes")
    if not isinstance(sealed, bytes) or len(sealed) != SEALED_KEY_SIZE:
        raise DecryptionError(_SEALED_FAILED)
    try:
        if public_key is None:
            opened = SealedBox(PrivateKey(secret_key)).decrypt(sealed)
        else:
            opened = bindings.crypto_box_seal_open(sealed, public_key, secret_key)
    except CryptoError:
        raise DecryptionError(_SEALED_FAILED) from None
    return DataKey(opened)


def _check_chunk_size(chunk_size: int) -> None:
    if not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")


def _key_bytes(key: DataKey) -> bytes:
    if not isinstance(key, DataKey):
        raise InvalidKey("expected a DataKey")
    return bytes(key)


def reader_key_id(public_key: bytes) -> str:
    """A short, stable id for a reader public key (a fingerprint, not a secret)."""
    return hashlib.sha256(public_key).hexdigest()[:32]
