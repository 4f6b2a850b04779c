"""The caller's own notifications: a patient's, or an attending physician's.

Scoped by the token, never by a path parameter, so nobody can name someone else's.
Listing is a query on the notifications view; acknowledging is a use case
(``vault.notifications``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, FreshViewsDep, VaultDep
from api.models import Position
from api.routers.common import Router, problem_responses
from api.views_models import Acknowledged, NotificationPage, NotificationPublic

router = Router(
    prefix="/v1/notifications", tags=["notifications"], responses=problem_responses(401, 422)
)


class Acknowledgement(BaseModel):
    """Everything up to ``up_to`` (a notification's ``position``) has been read."""

    model_config = ConfigDict(extra="forbid")

    up_to: Position = Field(description="at most the newest notification's position")


@router.get("", name="list_notifications")
def list_notifications(
    views: FreshViewsDep,
    vault: VaultDep,
    actor: CurrentActor,
    before: Annotated[Position | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    unread: bool = False,
) -> NotificationPage:
    """The caller's notifications, newest first, with the unread count."""
    page = views.notifications().page(
        actor.role.value, actor.id, before=before, limit=limit, unread_only=unread
    )
    # sealed free text: a justification, an appointed representative's name and act
    vault.open_details(page.notifications)
    return NotificationPage(
        notifications=[NotificationPublic.from_row(row) for row in page.notifications],
        unread=page.unread,
        next_cursor=page.next_cursor,
    )


@router.post("/acknowledgements", name="acknowledge_notifications", status_code=201)
def acknowledge(body: Acknowledgement, vault: VaultDep, actor: CurrentActor) -> Acknowledged:
    """Mark the caller's notifications up to ``up_to`` as read (recorded as an event)."""
    return Acknowledged(up_to=vault.acknowledge_notifications(actor, body.up_to))
