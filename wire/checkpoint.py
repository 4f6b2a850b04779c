"""The trail's checkpoint format: signed tree heads and the canonical JSON they sign.

Pure (standard library and PyNaCl's Ed25519 verification): the projection that builds
the trail, the exports and the offline verifier all share these definitions and the
signature checks (``verify_checkpoint``, ``verify_manifest``: they need the public key
only, and fail with ``SignatureInvalid`` or ``CheckpointFormatError``, both
``IntegrityFailure``). Signing lives in ``keys.checkpoint``, the only place that holds
the trail key.

A **checkpoint** says "at ``time`` the trail had ``size`` entries and this Merkle root".
The signed message is a small text note in the spirit of C2SP signed notes
(``tlog-checkpoint``)::

    coffre-trail/v1                                   origin: names the log and format
    1234                                              tree size, decimal
    3q2+7w...=                                        root hash, standard base64
    time 2026-11-02T09:00:00Z                         signing time, RFC 3339 UTC, seconds

(four lines, each ending in ``\\n``). ``Checkpoint.note()`` appends the C2SP signature
line ``— coffre-trail <base64(key hash[4] || signature[64])>`` for display and interop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from wire.errors import IntegrityFailure, InvalidInput

ORIGIN = "coffre-trail/v1"
KEY_NAME = "coffre-trail"
MANIFEST_CONTEXT = b"coffre-trail-export/1 manifest\n"
_ED25519 = b"\x01"  # C2SP signature type byte for Ed25519
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class CheckpointFormatError(IntegrityFailure):
    """A checkpoint (or a key) is malformed: missing field, bad base64, wrong size."""

    code = "trail-checkpoint-malformed"


# json.dumps would build this encoder on every call; the trail canonicalises per entry
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept as is: one text per value, hashed and signed."""
    return _CANONICAL.encode(value)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC to the second (``2026-11-02T09:00:00Z``); refuses naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("checkpoint time must carry a time zone", field="at")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Inverse of ``format_time``; raises ``CheckpointFormatError`` for any other form."""
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise CheckpointFormatError(f"time {text!r} is not RFC 3339 UTC seconds") from None


def key_id_of(public_key: bytes) -> str:
    """Short fingerprint of a trail public key (16 hex characters).

    The first 8 bytes of SHA-256(``coffre-trail`` || 0x0A || 0x01 || key): the first 4
    are the C2SP signed-note key hash of the same key.
    """
    return _key_hash(public_key)[:8].hex()


def _key_hash(public_key: bytes) -> bytes:
    return hashlib.sha256(KEY_NAME.encode() + b"\n" + _ED25519 + public_key).digest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the trail's size and root hash at a point in time."""

    size: int
    root: bytes
    at: datetime
    key_id: str
    signature: bytes
    origin: str = ORIGIN

    def body(self) -> bytes:
        """The exact bytes that are signed (see the module docstring)."""
        return signed_body(self.size, self.root, self.at, self.origin)

    def note(self) -> str:
        """The C2SP-style signed note: body, blank line, one signature line."""
        signature = base64.b64encode(bytes.fromhex(self.key_id)[:4] + self.signature).decode()
        return f"{self.body().decode()}\n\u2014 {KEY_NAME} {signature}\n"

    def to_json(self) -> dict[str, Any]:
        """The form carried in exports: root in hex, signature in base64."""
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "time": format_time(self.at),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Parse ``to_json`` output; raises ``CheckpointFormatError`` when malformed."""
        if not isinstance(data, dict):
            raise CheckpointFormatError("a checkpoint is a JSON object")
        try:
            size, root, key_id = data["size"], data["root"], data["key_id"]
            origin, time, signature = data["origin"], data["time"], data["signature"]
        except KeyError as missing:
            raise CheckpointFormatError(f"checkpoint lacks {missing}") from None
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise CheckpointFormatError("checkpoint size must be a non-negative integer")
        if not all(isinstance(v, str) for v in (root, key_id, origin, time, signature)):
            raise CheckpointFormatError("checkpoint root, key_id, time, signature are text")
        root_bytes = _hex(root, 32, "checkpoint root")
        _hex(key_id, 8, "checkpoint key id")
        return cls(
            size=size,
            root=root_bytes,
            at=parse_time(time),
            key_id=key_id,
            signature=decode_b64(signature, 64, "checkpoint signature"),
            origin=origin,
        )


def signed_body(size: int, root: bytes, at: datetime, origin: str = ORIGIN) -> bytes:
    """The checkpoint note body: origin, size, base64 root, time, each line ending in LF."""
    root_b64 = base64.b64encode(root).decode("ascii")
    return f"{origin}\n{size}\n{root_b64}\ntime {format_time(at)}\n".encode()


def _hex(text: str, size: int, what: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise CheckpointFormatError(f"{what} is not hex") from None
    if len(value) != size or value.hex() != text:
        raise CheckpointFormatError(f"{what} must be {size} bytes of lowercase hex")
    return value


def decode_b64(text: Any, size: int, what: str) -> bytes:
    """Strict standard base64 of exactly ``size`` bytes, else ``CheckpointFormatError``."""
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise CheckpointFormatError(f"{what} is not valid base64") from None
    if len(value) != size:
        raise CheckpointFormatError(f"{what} must be {size} bytes, got {len(value)}")
    return value


class SignatureInvalid(IntegrityFailure):
    """A checkpoint or manifest signature does not verify under the given public key."""

    code = "trail-signature-invalid"

    def __init__(self, detail: str, *, what: str) -> None:
        super().__init__(detail)
        self.what = what


def _verify_key(public_key: bytes) -> VerifyKey:
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise CheckpointFormatError("a trail public key is exactly 32 bytes")
    return VerifyKey(public_key)


def verify_checkpoint(checkpoint: Checkpoint, public_key: bytes) -> None:
    """Check that ``checkpoint`` was signed by the holder of ``public_key``.

    Returns None on success. Raises ``SignatureInvalid`` (``what="checkpoint"``) if the
    key id names another key, the origin is not ``coffre-trail/v1`` or the signature
    does not verify over the note body; ``CheckpointFormatError`` for a malformed key.
    """
    key = _verify_key(public_key)
    if checkpoint.origin != ORIGIN:
        raise SignatureInvalid(f"checkpoint origin is {checkpoint.origin!r}", what="checkpoint")
    expected = key_id_of(public_key)
    if checkpoint.key_id != expected:
        raise SignatureInvalid(
            f"checkpoint names key {checkpoint.key_id}, the public key is {expected}",
            what="checkpoint",
        )
    try:
        key.verify(checkpoint.body(), checkpoint.signature)
    except BadSignatureError:
        raise SignatureInvalid(
            f"checkpoint signature for size {checkpoint.size} does not verify", what="checkpoint"
        ) from None


def verify_manifest(manifest: dict[str, Any], signature: bytes, public_key: bytes) -> None:
    """Check an export manifest's signature; ``SignatureInvalid(what="manifest")`` if not."""
    key = _verify_key(public_key)
    try:
        # surrogatepass: a lone surrogate in a forged manifest must fail the signature,
        # not the encoding
        message = MANIFEST_CONTEXT + canonical_json(manifest).encode("utf-8", "surrogatepass")
        key.verify(message, signature)
    except (BadSignatureError, ValueError, RecursionError):
        raise SignatureInvalid(
            "export manifest signature does not verify", what="manifest"
        ) from None
