"""Notifications: what a person is told about spaces they hold or care for.

.. note::
   RECONSTRUCTED. The colleague's original of this module was overwritten by mistake
   (rules work, 2026-11-22 13:25) before it was committed; no copy survived. This
   version is rebuilt from what depends on it — ``api/routers/notifications.py``
   (``Notifications(store).page(role, id, before=, limit=, unread_only=)``),
   ``migrations/*/0006.notifications.sql`` and ``domain/inbox.py`` — and should be
   checked against (or replaced by) the original author's intent.

One row per (recipient, event). Kinds:

* ``new_document``: a document was deposited by someone else than the patient (a
  document held for an announcement consultation is announced only once released);
* ``announcement_pending``: a document awaits an announcement consultation (which one
  is not said, CSP R1111-53);
* ``new_professional``: a professional read the space for the first time;
* ``emergency_access``: an emergency access was declared, to everyone the event names
  (``notify``: the patient, representatives, the attending physician; CSP R1111-48).

A notification's ``position`` is its event's notification id (increasing for every
recipient); ``Inbox.Acknowledged`` records how far a recipient has read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.access import Access
from domain.inbox import Inbox
from domain.space import Space
from projections.runner import Event, Projection
from projections.store import Row, ViewCursor, ViewStore

INSERT = """
INSERT INTO notifications (entry_id, recipient_role, recipient_id, space_id, kind, at,
    actor_name, actor_profession, actor_organisation, document_id, detail)
VALUES (%(entry_id)s, %(recipient_role)s, %(recipient_id)s, %(space_id)s, %(kind)s, %(at)s,
    %(actor_name)s, %(actor_profession)s, %(actor_organisation)s, %(document_id)s, %(detail)s)
"""


class NotificationsProjection(Projection):
    """Builds ``notifications`` (and its side tables) from space, access and inbox events."""

    name = "notifications"
    tables = ("notifications", "notification_acks", "notification_spaces", "notification_readers")

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""
        for entry_id, event in events:
            self._apply(cursor, entry_id, event)

    def _apply(self, cursor: ViewCursor, entry_id: int, event: Event) -> None:
        if isinstance(event, Space.Provisioned):
            cursor.execute(
                "INSERT INTO notification_spaces (space_id, patient_id) VALUES (%(s)s, %(p)s)",
                {"s": event.originator_id, "p": event.patient_id},
            )
        elif isinstance(event, Space.Deposited):
            if event.version == 1 and event.author["role"] != "patient":
                self._to_patient(cursor, entry_id, event, "new_document", event.author)
        elif isinstance(event, Space.HeldForAnnouncement):
            # Not announced while held: the deposit's notice goes until the release.
            cursor.execute(
                "DELETE FROM notifications WHERE document_id = %(d)s AND kind = 'new_document'",
                {"d": event.document_id},
            )
        elif isinstance(event, Space.ReleasedToPatient):
            self._to_patient(cursor, entry_id, event, "new_document", event.actor)
        elif isinstance(event, Space.AnnouncementNoticeSent):
            self._to_patient(cursor, entry_id, event, "announcement_pending", event.actor, None)
        elif isinstance(event, Space.EmergencyAccessInvoked):
            detail = {"justification": event.justification, "expires_at": str(event.expires_at)}
            for recipient in event.notify:
                self._insert(
                    cursor,
                    entry_id,
                    recipient["role"],
                    recipient["id"],
                    event.originator_id,
                    "emergency_access",
                    event.at,
                    event.actor,
                    None,
                    detail,
                )
        elif isinstance(event, Access.Read) and event.reader["role"] == "professional":
            self._first_read(cursor, entry_id, event)
        elif isinstance(event, Inbox.Acknowledged):
            self._acknowledged(cursor, event)

    def _first_read(self, cursor: ViewCursor, entry_id: int, event: Any) -> None:
        params = {"s": event.space_id, "r": event.reader["id"]}
        seen = cursor.fetch(
            "SELECT 1 AS seen FROM notification_readers "
            "WHERE space_id = %(s)s AND reader_id = %(r)s",
            params,
        )
        if not seen:
            cursor.execute(
                "INSERT INTO notification_readers (space_id, reader_id) VALUES (%(s)s, %(r)s)",
                params,
            )
            self._to_patient(
                cursor, entry_id, event, "new_professional", event.reader, None, event.space_id
            )

    def _acknowledged(self, cursor: ViewCursor, event: Any) -> None:
        params = {"role": event.actor["role"], "id": event.actor["id"], "up_to": event.up_to}
        cursor.execute(
            "DELETE FROM notification_acks WHERE recipient_role = %(role)s "
            "AND recipient_id = %(id)s",
            params,
        )
        cursor.execute(
            "INSERT INTO notification_acks (recipient_role, recipient_id, up_to) "
            "VALUES (%(role)s, %(id)s, %(up_to)s)",
            params,
        )

    def _to_patient(
        self,
        cursor: ViewCursor,
        entry_id: int,
        event: Any,
        kind: str,
        actor: dict[str, Any],
        document_id: UUID | str | None = "event",
        space_id: UUID | None = None,
    ) -> None:
        space = space_id or event.originator_id
        rows = cursor.fetch(
            "SELECT patient_id FROM notification_spaces WHERE space_id = %(s)s", {"s": space}
        )
        if not rows:
            return
        document = getattr(event, "document_id", None) if document_id == "event" else document_id
        self._insert(
            cursor,
            entry_id,
            "patient",
            rows[0]["patient_id"],
            space,
            kind,
            event.at,
            actor,
            document,
            {},
        )

    def _insert(
        self,
        cursor: ViewCursor,
        entry_id: int,
        role: str,
        recipient: str,
        space_id: UUID,
        kind: str,
        at: Any,
        actor: dict[str, Any],
        document_id: Any,
        detail: dict[str, Any],
    ) -> None:
        cursor.execute(
            INSERT,
            {
                "entry_id": entry_id,
                "recipient_role": role,
                "recipient_id": recipient,
                "space_id": space_id,
                "kind": kind,
                "at": at,
                "actor_name": actor.get("name"),
                "actor_profession": actor.get("profession"),
                "actor_organisation": actor.get("organisation"),
                "document_id": document_id,
                "detail": json.dumps(detail, sort_keys=True),
            },
        )


@dataclass(frozen=True)
class NotificationPage:
    """One page of a person's notifications, newest first."""

    notifications: list[Row]
    unread: int
    next_cursor: int | None


class Notifications:
    """Queries over the notifications view, always for one recipient."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def page(
        self,
        role: str,
        recipient_id: str,
        *,
        before: int | None = None,
        limit: int = 50,
        unread_only: bool = False,
    ) -> NotificationPage:
        """The recipient's notifications older than cursor ``before``."""
        params: dict[str, Any] = {"role": role, "id": recipient_id, "limit": limit + 1}
        acks = self.store.query(
            "SELECT up_to FROM notification_acks WHERE recipient_role = %(role)s "
            "AND recipient_id = %(id)s",
            params,
        )
        up_to = acks[0]["up_to"] if acks else 0
        params["up_to"] = up_to
        # A document held for an announcement is never announced, whatever the lag
        # between this view and the access log's (which knows what is held).
        where = [
            "n.recipient_role = %(role)s",
            "n.recipient_id = %(id)s",
            "COALESCE(d.held, 0) = 0",
        ]
        if before is not None:
            where.append("n.entry_id < %(before)s")
            params["before"] = before
        if unread_only:
            where.append("n.entry_id > %(up_to)s")
        base = (
            "FROM notifications n LEFT JOIN access_log_documents d "
            "ON d.document_id = n.document_id WHERE " + " AND ".join(where)
        )
        rows = self.store.query(
            f"SELECT n.* {base} ORDER BY n.entry_id DESC LIMIT %(limit)s",
            params,
        )
        unread = self.store.query(
            "SELECT COUNT(*) AS c FROM notifications n LEFT JOIN access_log_documents d "
            "ON d.document_id = n.document_id WHERE n.recipient_role = %(role)s AND "
            "n.recipient_id = %(id)s AND COALESCE(d.held, 0) = 0 AND n.entry_id > %(up_to)s",
            params,
        )[0]["c"]
        for row in rows:
            row["position"] = row["entry_id"]
            row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
            row["read"] = row["entry_id"] <= up_to
        next_cursor = rows[limit - 1]["entry_id"] if len(rows) > limit else None
        return NotificationPage(rows[:limit], int(unread), next_cursor)
