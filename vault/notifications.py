"""Use case of a person's notifications: acknowledging what they have read.

Listing notifications is a query on the notifications view
(``projections.notifications``); acknowledging is an event, so that read state
survives a rebuild of that view. A function over a ``vault.core.VaultCore``
(``vault.service.Vault`` binds it as its method).
"""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from domain.inbox import Inbox
from domain.values import Actor
from vault.core import VaultCore


def acknowledge_notifications(core: VaultCore, actor: Actor, up_to: int) -> int:
    """Mark ``actor``'s notifications up to position ``up_to`` as read; returns it."""

    def change() -> tuple[Inbox, int]:
        try:
            inbox = core.repository.get(Inbox.create_id(actor.role.value, actor.id))
        except AggregateNotFoundError:
            inbox = Inbox.for_actor(actor)
        newest = core.recorder.max_notification_id() or 0
        inbox.acknowledge(up_to, newest, actor, core.clock.now())
        return inbox, max(up_to, inbox.up_to)

    return core.retry(change)
