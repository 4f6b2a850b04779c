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

The trail key is its own key, from its own source (``COFFRE_TRAIL_KEYS`` or the file
``trail.keys``: ``keys.sources``), named by its id, the fingerprint of its public key
(``wire.checkpoint.key_id_of``), which every checkpoint carries. Deployments older than
that derived it from the master key (``MasterKeys.derive("trail-checkpoints")``):
:meth:`CheckpointSigner.legacy` still computes that key, so a store of that time keeps
its key (``coffre.keysources``). Rotating the trail key ends the old key's validity
period and starts the new one's; regulators verify with the published key set
(``wire.trail_keys``), which keeps every key that ever signed.

Verification (``verify_checkpoint``, ``verify_manifest``) needs the public key only:
it lives with the format in ``wire.checkpoint``, shared with the offline verifier.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from nacl.signing import SigningKey

from keys.master import MasterKeys
from keys.sources import KeyEntry
from wire.checkpoint import (
    MANIFEST_CONTEXT,
    Checkpoint,
    canonical_json,
    format_time,
    key_id_of,
    parse_time,
    signed_body,
)
from wire.errors import InvalidInput, KeySourceError

__all__ = ["CheckpointSigner"]

DERIVATION_CONTEXT = "trail-checkpoints"


class CheckpointSigner:
    """Holds the trail's Ed25519 signing key; signs checkpoints and export manifests.

    .. warning:: the seed is a secret; never log or export it. Only ``public_key``
       leaves the process.
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
    def from_entry(cls, entry: KeyEntry) -> CheckpointSigner:
        """The signer of a key source's entry, whose id must be its key's fingerprint.

        A trail key's id is what checkpoints name, so it is not chosen but computed;
        an entry naming another id (a typo, a key pasted under the wrong id) is refused.
        """
        signer = cls(entry.secret)
        if entry.key_id != signer.key_id:
            raise KeySourceError(
                f"trail key {entry.key_id!r} is not named by its fingerprint ({signer.key_id})"
            )
        return signer

    @classmethod
    def generate(cls) -> KeyEntry:
        """A fresh trail key, as an entry of a key source (id = its fingerprint)."""
        seed = secrets.token_bytes(32)
        return KeyEntry(cls(seed).key_id, seed)

    @classmethod
    def legacy(cls, master: MasterKeys) -> KeyEntry:
        """The trail key of deployments before trail keys had a source of their own:
        ``master.derive("trail-checkpoints")`` (the current master key's)."""
        seed = master.derive(DERIVATION_CONTEXT)
        return KeyEntry(cls(seed).key_id, seed)

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
