"""The trail signing key: Ed25519 checkpoints (signed tree heads) and export manifests.

A **checkpoint** says "at ``time`` the trail had ``size`` entries and this Merkle root".
The signed message is a small text note in the spirit of C2SP signed notes
(``tlog-checkpoint``)::

    coffre-trail/v1                                   origin: names the log and format
    1234                                              tree size, decimal
    3q2+7w...=                                        root hash, standard base64
    time 2026-11-02T09:00:00Z                         signing time, RFC 3339 UTC, seconds

(four lines, each ending in ``\\n``). ``Checkpoint.note()`` appends the C2SP signature
line ``— coffre-trail <base64(key hash[4] || signature[64])>`` for display and interop.

A **manifest** is the last line of a JSON Lines export; it is signed over the canonical
JSON of the manifest object prefixed with ``coffre-trail-export/1 manifest\\n``. The two
messages cannot be confused with each other (different first lines), so a checkpoint
signature is never a valid manifest signature or the reverse.

The key is derived from the master key (``MasterKeys.derive("trail-checkpoints")``):
rotating the master key therefore rotates the trail key. Checkpoints signed before a
rotation still verify with the *old* public key, which regulators keep; publish the new
key when rotating.

Verification (``verify_checkpoint``, ``verify_manifest``) needs the public key only:
it lives with the format in ``wire.checkpoint``, shared with the offline verifier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nacl.signing import SigningKey

from wire.checkpoint import (
    MANIFEST_CONTEXT,
    Checkpoint,
    canonical_json,
    format_time,
    key_id_of,
    parse_time,
    signed_body,
)
from wire.errors import InvalidInput

__all__ = ["CheckpointSigner"]

DERIVATION_CONTEXT = "trail-checkpoints"


class CheckpointSigner:
    """Holds the trail's Ed25519 signing key; signs checkpoints and export manifests.

    .. warning:: the seed is a secret derived from the master key; never log or export
       it. Only ``public_key`` leaves the process.
    """

    __slots__ = ("_key", "key_id", "public_key")

    def __init__(self, seed: bytes) -> None:
        """Build the key pair from a 32-byte seed (``InvalidInput`` otherwise)."""
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidInput("a trail signing seed is exactly 32 bytes", field="seed")
        self._key = SigningKey(seed)
        self.public_key = bytes(self._key.verify_key)
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def from_master_keys(cls, keys: Any) -> CheckpointSigner:
        """The deployment's trail key: ``keys.derive("trail-checkpoints")`` as the seed."""
        return cls(keys.derive(DERIVATION_CONTEXT))

    def sign(self, size: int, root: bytes, at: datetime) -> Checkpoint:
        """Sign (size, root, at); ``at`` is truncated to the second, as the note carries it."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput("tree size must be a non-negative int", field="size")
        if not isinstance(root, bytes) or len(root) != 32:
            raise InvalidInput("root must be a 32-byte hash", field="root")
        at = parse_time(format_time(at))
        signature = self._key.sign(signed_body(size, root, at)).signature
        return Checkpoint(size, root, at, self.key_id, signature)

    def sign_manifest(self, manifest: dict[str, Any]) -> bytes:
        """Ed25519 signature over ``MANIFEST_CONTEXT || canonical_json(manifest)``."""
        return self._key.sign(MANIFEST_CONTEXT + canonical_json(manifest).encode()).signature

    def __repr__(self) -> str:
        return f"CheckpointSigner(key_id={self.key_id!r}, seed=<redacted>)"
