"""Reader keys: the public keys a reading client registers, one aggregate per actor.

A read names one of the caller's registered keys, and the data key is resealed to it;
binding keys to identities means a stolen token alone cannot redirect a key release to
a key of the thief's choosing without a recorded registration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.key_bytes import PUBLIC_KEY_SIZE, b64, decode_key_bytes
from domain.values import Actor
from wire.envelope import reader_key_id
from wire.errors import UnknownReaderKey
from wire.values import require_aware

READER_NAMESPACE = uuid5(NAMESPACE_URL, "https://coffre.invalid/reader")


class Reader(Aggregate):
    """The registered reading keys of one actor."""

    @staticmethod
    def create_id(role: str, actor_id: str) -> UUID:  # type: ignore[override]
        """One reader aggregate per (role, id)."""
        return uuid5(READER_NAMESPACE, f"{role}:{actor_id}")

    @event("Created")
    def __init__(self, role: str, actor_id: str) -> None:
        self.role = role
        self.actor_id = actor_id
        self.keys: dict[str, str] = {}

    @classmethod
    def for_actor(cls, actor: Actor) -> Reader:
        """A new, empty reader record for ``actor``."""
        return cls(role=actor.role.value, actor_id=actor.id)

    def register(self, public_key: bytes | str, actor: Actor, at: datetime) -> str:
        """Register a reading key; returns its id. Registering it again changes nothing."""
        key = decode_key_bytes(public_key, size=PUBLIC_KEY_SIZE, field="public_key")
        key_id = reader_key_id(key)
        if key_id not in self.keys:
            self.trigger_event(
                self.KeyRegistered,
                key_id=key_id,
                public_key=b64(key),
                actor=actor.to_dict(),
                at=require_aware(at, field="at"),
            )
        return key_id

    class KeyRegistered(Aggregate.Event):
        """A reading key was registered."""

        key_id: str
        public_key: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.keys[self.key_id] = self.public_key

    def public_key(self, key_id: str) -> str:
        """The base64 public key registered under ``key_id``."""
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownReaderKey("this reader key is not registered to you") from None
