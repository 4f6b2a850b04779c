"""Inboxes: how far each person has read their notifications.

The notifications themselves are derived from the space's events (a projection); the
only thing a person *does* with them is acknowledge them, which is recorded here so
that a rebuilt view keeps the read/unread state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.values import Actor
from wire.errors import InvalidInput
from wire.values import POSITION_MAX, require_aware

INBOX_NAMESPACE = uuid5(NAMESPACE_URL, "https://coffre.invalid/inbox")


class Inbox(Aggregate):
    """One person's acknowledgement position in their notifications."""

    @staticmethod
    def create_id(role: str, actor_id: str) -> UUID:  # type: ignore[override]
        """One inbox per (role, id)."""
        return uuid5(INBOX_NAMESPACE, f"{role}:{actor_id}")

    @event("Created")
    def __init__(self, role: str, actor_id: str) -> None:
        self.role = role
        self.actor_id = actor_id
        self.up_to = 0

    @classmethod
    def for_actor(cls, actor: Actor) -> Inbox:
        """A new inbox for ``actor``."""
        return cls(role=actor.role.value, actor_id=actor.id)

    def acknowledge(self, up_to: int, newest: int, actor: Actor, at: datetime) -> bool:
        """Mark every notification up to ``up_to`` read; False when nothing changed.

        ``newest`` is the position of the newest event stored: a position past it would
        mark notifications read before they exist (and could not be stored at all past
        ``POSITION_MAX``).
        """
        if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0:
            raise InvalidInput("up_to is a notification position", field="up_to")
        if up_to > min(newest, POSITION_MAX):
            raise InvalidInput(
                "up_to is past the newest notification; acknowledge a position you were shown",
                field="up_to",
            )
        if up_to <= self.up_to:
            return False
        self._acknowledged(up_to=up_to, actor=actor.to_dict(), at=require_aware(at, field="at"))
        return True

    def _acknowledged(self, up_to: int, actor: dict[str, Any], at: datetime) -> None:
        # Records without checking (``acknowledge`` checks); tests record a poisoned
        # event through it, as an older or broken writer would have.
        self.trigger_event(self.Acknowledged, up_to=up_to, actor=actor, at=at)

    class Acknowledged(Aggregate.Event):
        """Notifications up to ``up_to`` were read."""

        up_to: int
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.up_to = self.up_to
