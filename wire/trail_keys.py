"""The trail's published key set: every key that signed the trail, and when it could.

The trail key rotates: each checkpoint names its key (``key_id``, the key's
fingerprint, ``wire.checkpoint.key_id_of``), and the operator publishes, out of band,
the set of keys with their validity periods. A regulator verifies with that set: a
checkpoint verifies only under the key it names, and only if its signing time lies in
that key's period. A key's period is half-open, ``[not_before, not_after)``; a missing
bound is open (``not_before`` null: since the trail began; ``not_after`` null: still
signing). The file (``coffre keys publish-trail``, ``GET /v1/trail/keys``)::

    {"format": "coffre-trail-keys/1",
     "keys": [{"key_id": "3d573c548fdef59f", "public_key": "<base64, 32 bytes>",
               "not_before": null, "not_after": "2026-05-01T09:00:00Z"},
              {"key_id": "…", "public_key": "…",
               "not_before": "2026-05-01T09:00:00Z", "not_after": null}]}

Times are RFC 3339 UTC to the second (``wire.checkpoint.format_time``). Pure: the
offline verifier (``client.trail_verify``) reads it with nothing else.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wire.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignatureInvalid,
    decode_b64,
    format_time,
    key_id_of,
    parse_time,
)

__all__ = ["KEY_SET_FORMAT", "KeyOutsidePeriod", "PublishedKey", "TrailKeySet", "UnknownTrailKey"]

KEY_SET_FORMAT = "coffre-trail-keys/1"


class UnknownTrailKey(SignatureInvalid):
    """A checkpoint names a key the published key set does not hold."""

    code = "trail-key-unknown"


class KeyOutsidePeriod(SignatureInvalid):
    """A checkpoint was signed at a time outside its key's published validity period."""

    code = "trail-key-outside-period"


@dataclass(frozen=True)
class PublishedKey:
    """One trail key of the set: its id, public key and validity period."""

    key_id: str
    public_key: bytes
    not_before: datetime | None
    not_after: datetime | None

    def covers(self, at: datetime) -> bool:
        """Whether ``at`` lies in ``[not_before, not_after)``."""
        if self.not_before is not None and at < self.not_before:
            return False
        return self.not_after is None or at < self.not_after

    def to_json(self) -> dict[str, Any]:
        """The form of the published file."""
        return {
            "key_id": self.key_id,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "not_before": None if self.not_before is None else format_time(self.not_before),
            "not_after": None if self.not_after is None else format_time(self.not_after),
        }

    @classmethod
    def from_json(cls, data: Any) -> PublishedKey:
        """Parse one key; ``CheckpointFormatError`` if malformed or misnamed."""
        if not isinstance(data, dict) or set(data) != {
            "key_id",
            "public_key",
            "not_before",
            "not_after",
        }:
            raise CheckpointFormatError(
                "a published key is {key_id, public_key, not_before, not_after}"
            )
        public_key = decode_b64(data["public_key"], 32, "published public key")
        if data["key_id"] != key_id_of(public_key):
            raise CheckpointFormatError(
                f"published key {data['key_id']!r} is not named by its fingerprint"
            )
        bounds = [
            None if data[n] is None else parse_time(data[n]) for n in ("not_before", "not_after")
        ]
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            raise CheckpointFormatError(f"published key {data['key_id']} ends before it begins")
        return cls(data["key_id"], public_key, bounds[0], bounds[1])


@dataclass(frozen=True)
class TrailKeySet:
    """The published trail keys, by id."""

    keys: tuple[PublishedKey, ...]

    def to_json(self) -> dict[str, Any]:
        """The published file's object."""
        return {"format": KEY_SET_FORMAT, "keys": [key.to_json() for key in self.keys]}

    @classmethod
    def from_json(cls, data: Any) -> TrailKeySet:
        """Parse a published key set; ``CheckpointFormatError`` if malformed."""
        if not isinstance(data, dict) or data.get("format") != KEY_SET_FORMAT:
            raise CheckpointFormatError(f"a trail key set is a {KEY_SET_FORMAT} object")
        items = data.get("keys")
        if not isinstance(items, list) or not items:
            raise CheckpointFormatError("a trail key set lists at least one key")
        keys = tuple(PublishedKey.from_json(item) for item in items)
        ids = [key.key_id for key in keys]
        if len(set(ids)) != len(ids):
            raise CheckpointFormatError("a trail key set lists a key twice")
        return cls(keys)

    def key_for(self, checkpoint: Checkpoint) -> bytes:
        """The public key ``checkpoint`` must verify under: the key it names, if the set
        holds it and its period covers the checkpoint's time.

        Raises :class:`UnknownTrailKey` or :class:`KeyOutsidePeriod` (both
        ``SignatureInvalid``, ``what="checkpoint"``). The signature itself is checked by
        ``wire.checkpoint.verify_checkpoint`` with the key returned.
        """
        for key in self.keys:
            if key.key_id == checkpoint.key_id:
                if not key.covers(checkpoint.at):
                    period = key.to_json()
                    raise KeyOutsidePeriod(
                        f"checkpoint of size {checkpoint.size} is dated "
                        f"{format_time(checkpoint.at)}, outside the period of its key "
                        f"{key.key_id} ({period['not_before'] or 'start'} to "
                        f"{period['not_after'] or 'now'})",
                        what="checkpoint",
                    )
                return key.public_key
        raise UnknownTrailKey(
            f"checkpoint of size {checkpoint.size} names key {checkpoint.key_id}, "
            "which the key set does not hold",
            what="checkpoint",
        )
