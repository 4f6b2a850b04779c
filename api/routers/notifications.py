"""The caller's own notifications: a patient's, or an attending physician's.

Scoped by the token, never by a path parameter, so nobody can name someone else's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, RunnerDep, SettingsDep, VaultDep
from api.models import Position
from api.routers.common import problem_responses
from projections.notifications import Notifications

router = APIRouter(
    prefix="/v1/notifications", tags=["notifications"], responses=problem_responses(401, 422)
)


def get_notifications(runner: RunnerDep) -> Notifications:
    """The notifications view, in the same database as the other views."""
    return Notifications(runner.store)


NotificationsDep = Annotated[Notifications, Depends(get_notifications)]


class Acknowledgement(BaseModel):
    """Everything up to ``up_to`` (a notification's ``position``) has been read."""

    model_config = ConfigDict(extra="forbid")

    up_to: Position = Field(description="at most the newest notification's position")


@router.get("", name="list_notifications")
def list_notifications(
    notifications: NotificationsDep,
    runner: RunnerDep,
    settings: SettingsDep,
    actor: CurrentActor,
    before: Annotated[Position | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    unread: bool = False,
) -> dict[str, Any]:
    """The caller's notifications, newest first, with the unread count."""
    if settings.run_projections_in_process:
        runner.catch_up()
    page = notifications.page(
        actor.role.value, actor.id, before=before, limit=limit, unread_only=unread
    )
    return {
        "notifications": [_public(row) for row in page.notifications],
        "unread": page.unread,
        "next_cursor": page.next_cursor,
    }


@router.post("/acknowledgements", name="acknowledge_notifications", status_code=201)
def acknowledge(body: Acknowledgement, vault: VaultDep, actor: CurrentActor) -> dict[str, int]:
    """Mark the caller's notifications up to ``up_to`` as read (recorded as an event)."""
    return {"up_to": vault.acknowledge_notifications(actor, body.up_to)}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": row["position"],
        "cursor": row["entry_id"],
        "kind": row["kind"],
        "at": row["at"],
        "space_id": row["space_id"],
        "document_id": row["document_id"],
        "by": {
            "name": row["actor_name"],
            "profession": row["actor_profession"],
            "organisation": row["actor_organisation"],
        },
        "detail": row["detail"],
        "read": row["read"],
    }
