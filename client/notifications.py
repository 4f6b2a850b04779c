"""The caller's own notifications through the SDK (``api.routers.notifications``,
``projections.notifications``).

::

    with CoffreClient(url, token) as coffre:
        page = coffre.notifications(unread=True)
        coffre.acknowledge_notifications(page["notifications"][0]["position"])
"""

from __future__ import annotations

from typing import Any

from client.transport import Transport
from wire.errors import InvalidInput

__all__ = ["NotificationMethods"]


class NotificationMethods(Transport):
    """Calls on the caller's notifications."""

    def notifications(
        self, unread: bool = False, before: int | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """One page of the caller's own notifications, newest first:
        ``{notifications: [...], unread: int, next_cursor}``. Each notification has a
        ``position`` (what :meth:`acknowledge_notifications` takes), ``kind``, ``at``,
        ``by``, ``document_id``, ``detail`` and ``read``."""
        params: dict[str, str] = {"limit": str(limit)}
        if unread:
            params["unread"] = "true"
        if before is not None:
            params["before"] = str(before)
        return dict(self._request("GET", "/v1/notifications", params=params))

    def acknowledge_notifications(self, up_to: int) -> int:
        """Mark the caller's notifications up to position ``up_to`` as read; returns it."""
        if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0:
            raise InvalidInput("up_to must be a notification position (>= 0)", field="up_to")
        answer = self._request("POST", "/v1/notifications/acknowledgements", json={"up_to": up_to})
        return int(answer["up_to"])
