"""Use cases of a person's notifications: acknowledging what they have read.

Mixed into ``vault.service.Vault``. Listing notifications is a query on the
notifications view (``projections.notifications``); acknowledging is an event, so that
read state survives a rebuild of that view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError

from domain.inbox import Inbox
from domain.values import Actor

if TYPE_CHECKING:
    from vault.service import Vault


class InboxCases:
    """Notification use cases of the vault."""

    def acknowledge_notifications(self: Vault, actor: Actor, up_to: int) -> int:
        """Mark ``actor``'s notifications up to position ``up_to`` as read; returns it."""

        def change() -> tuple[Inbox, int]:
            try:
                inbox = self.repository.get(Inbox.create_id(actor.role.value, actor.id))
            except AggregateNotFoundError:
                inbox = Inbox.for_actor(actor)
            newest = self.recorder.max_notification_id() or 0
            inbox.acknowledge(up_to, newest, actor, self.clock.now())
            return inbox, max(up_to, inbox.up_to)

        return self._retry(change)  # type: ignore[arg-type]
