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
  (``notify``: the patient, representatives, the attending physician; CSP R1111-48);
* ``representative_appointed``: a registry appointed a legal representative, to
  everyone the event names (``notify``: the patient and the other representatives in
  office), with the act it rests on (``detail.basis``); the representative's name and
  the act's reference are kept sealed, as an emergency access's justification is;
* ``device_requested``, ``device_refused``, ``device_approved``, ``device_revoked``,
  ``enrolment_code``: every step about a person's reader devices, to their owner
  (patient, representative, professional or service), with no space
  (``detail``: the device's ``key_id`` and ``name``, how it was approved, why a step
  was refused).

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
from domain.key_bytes import as_detail, stored_text
from domain.reader import Reader
from domain.space import Space
from projections.access_log import known_document_clauses
from projections.runner import Projection
from projections.source import Event
from projections.store import Row, ViewCursor, ViewStore
from wire.values import Role

#: the notification kind of each event about a person's reader devices
DEVICE_KINDS: dict[type, str] = {
    Reader.DeviceRequested: "device_requested",
    Reader.DeviceRefused: "device_refused",
    Reader.DeviceApproved: "device_approved",
    Reader.DeviceRevoked: "device_revoked",
    Reader.EnrolmentCodeIssued: "enrolment_code",
}
#: the columns of a ``notifications`` row, in the order ``copy_rows`` writes them
COLUMNS = (
    "entry_id",
    "recipient_role",
    "recipient_id",
    "space_id",
    "kind",
    "at",
    "actor_name",
    "actor_profession",
    "actor_organisation",
    "document_id",
    "detail",
)


class _Batch:
    """One batch's writes and lookups, in its transaction.

    Notifications and first readers are appended with one COPY each at the end (they
    are never updated); the lookups a batch repeats (has this professional read this
    space before? whose space is it?) are asked once per key and then kept, updated
    by the batch's own writes.
    """

    def __init__(self, cursor: ViewCursor) -> None:
        self.cursor = cursor
        self.notifications: list[tuple[Any, ...]] = []
        self.new_readers: list[tuple[UUID, str]] = []
        self._readers: set[tuple[UUID, str]] = set()
        self._patients: dict[UUID, str | None] = {}

    def patient(self, space_id: UUID) -> str | None:
        """The patient whose space it is (None if the space is unknown)."""
        if space_id not in self._patients:
            rows = self.cursor.fetch(
                "SELECT patient_id FROM notification_spaces WHERE space_id = %(s)s",
                {"s": space_id},
            )
            self._patients[space_id] = rows[0]["patient_id"] if rows else None
        return self._patients[space_id]

    def provisioned(self, space_id: UUID, patient_id: str) -> None:
        """A new space and its patient."""
        self.cursor.execute(
            "INSERT INTO notification_spaces (space_id, patient_id) VALUES (%(s)s, %(p)s)",
            {"s": space_id, "p": patient_id},
        )
        self._patients[space_id] = patient_id

    def first_read(self, space_id: UUID, reader_id: str) -> bool:
        """True the first time ``reader_id`` reads the space (and remember they did)."""
        key = (space_id, reader_id)
        if key in self._readers:
            return False
        self._readers.add(key)
        seen = self.cursor.fetch(
            "SELECT 1 AS seen FROM notification_readers "
            "WHERE space_id = %(s)s AND reader_id = %(r)s",
            {"s": space_id, "r": reader_id},
        )
        if seen:
            return False
        self.new_readers.append(key)
        return True

    def flush(self) -> None:
        """Write what is buffered (before a statement that reads or deletes it)."""
        self.cursor.copy_rows("notifications", COLUMNS, self.notifications)
        self.cursor.copy_rows("notification_readers", ("space_id", "reader_id"), self.new_readers)
        self.notifications, self.new_readers = [], []


class NotificationsProjection(Projection):
    """Builds ``notifications`` (and its side tables) from space, access and inbox events."""

    name = "notifications"
    tables = ("notifications", "notification_acks", "notification_spaces", "notification_readers")

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""
        batch = _Batch(cursor)
        for entry_id, event in events:
            self._apply(batch, entry_id, event)
        batch.flush()

    def _apply(self, batch: _Batch, entry_id: int, event: Event) -> None:
        if isinstance(event, Space.Provisioned):
            batch.provisioned(event.originator_id, event.patient_id)
        elif isinstance(event, Space.Deposited):
            if event.version == 1 and event.author["role"] != "patient":
                self._to_patient(batch, entry_id, event, "new_document", event.author)
        elif isinstance(event, Space.HeldForAnnouncement):
            # Not announced while held: the deposit's notice goes until the release.
            batch.flush()
            batch.cursor.execute(
                "DELETE FROM notifications WHERE document_id = %(d)s AND kind = 'new_document'",
                {"d": event.document_id},
            )
        elif isinstance(event, Space.ReleasedToPatient):
            self._to_patient(batch, entry_id, event, "new_document", event.actor)
        elif isinstance(event, Space.AnnouncementNoticeSent):
            self._to_patient(batch, entry_id, event, "announcement_pending", event.actor, None)
        elif isinstance(event, Space.EmergencyAccessInvoked):
            justification = stored_text(event.justification, event.text_key)
            detail = {
                "justification": as_detail(justification),
                "expires_at": str(event.expires_at),
            }
            for recipient in event.notify:
                self._insert(
                    batch,
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
        elif isinstance(event, Space.RepresentativeAppointed):
            # The patient and every other representative in office (named on the event
            # by the domain) are told who now acts for the patient, and on what act.
            # The name and the act's reference stay sealed (as a justification does);
            # the vault opens them for the recipient (``open_details``).
            text_key = event.__dict__.get("text_key")
            name = stored_text(event.representative["name"], text_key)
            reference = stored_text(event.basis["reference"], text_key)
            detail = {
                "representative": {**event.representative, "name": as_detail(name)},
                "kind": event.kind,
                "basis": {**event.basis, "reference": as_detail(reference)},
                "until": str(event.until) if event.until else None,
            }
            for recipient in event.notify:
                self._insert(
                    batch,
                    entry_id,
                    recipient["role"],
                    recipient["id"],
                    event.originator_id,
                    "representative_appointed",
                    event.at,
                    event.actor,
                    None,
                    detail,
                )
        elif isinstance(event, Access.Read) and event.reader["role"] == "professional":
            if batch.first_read(event.space_id, event.reader["id"]):
                self._to_patient(
                    batch, entry_id, event, "new_professional", event.reader, None, event.space_id
                )
        elif isinstance(event, Inbox.Acknowledged):
            self._acknowledged(batch.cursor, event)
        elif type(event) in DEVICE_KINDS:
            self._device(batch, entry_id, event)

    def _device(self, batch: _Batch, entry_id: int, event: Any) -> None:
        # The owner is told of every step about their devices, whoever took it: a new
        # device asking (theirs, or a thief's holding their token), a refused step, an
        # approval, a revocation, an enrolment code sent to them. No space is concerned.
        detail = {
            name: getattr(event, name)
            for name in ("key_id", "name", "method", "purpose", "rule")
            if getattr(event, name, None) is not None
        }
        owner = event.owner
        kind = DEVICE_KINDS[type(event)]
        self._insert(
            batch,
            entry_id,
            owner["role"],
            owner["id"],
            None,
            kind,
            event.at,
            event.actor,
            None,
            detail,
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
        batch: _Batch,
        entry_id: int,
        event: Any,
        kind: str,
        actor: dict[str, Any],
        document_id: UUID | str | None = "event",
        space_id: UUID | None = None,
    ) -> None:
        space = space_id or event.originator_id
        patient = batch.patient(space)
        if patient is None:
            return
        document = getattr(event, "document_id", None) if document_id == "event" else document_id
        at = event.at
        self._insert(batch, entry_id, "patient", patient, space, kind, at, actor, document, {})

    def _insert(
        self,
        batch: _Batch,
        entry_id: int,
        role: str,
        recipient: str,
        space_id: UUID | None,
        kind: str,
        at: Any,
        actor: dict[str, Any],
        document_id: Any,
        detail: dict[str, Any],
    ) -> None:
        batch.notifications.append(
            (
                entry_id,
                role,
                recipient,
                space_id,
                kind,
                at,
                actor.get("name"),
                actor.get("profession"),
                actor.get("organisation"),
                document_id,
                json.dumps(detail, sort_keys=True),
            )
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
        # A document the recipient may not know of (one held for an announcement, for
        # the patient) is never announced, whatever the lag between this view and the
        # access log's, which records the codes.
        known = known_document_clauses(Role(role))
        where = ["n.recipient_role = %(role)s", "n.recipient_id = %(id)s", *known]
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
        unread_where = " AND ".join(
            [
                "n.recipient_role = %(role)s",
                "n.recipient_id = %(id)s",
                *known,
                "n.entry_id > %(up_to)s",
            ]
        )
        # Only our own clause strings are interpolated; every value is a bound parameter.
        unread_sql = (
            "SELECT COUNT(*) AS c FROM notifications n LEFT JOIN access_log_documents d "  # noqa: S608
            f"ON d.document_id = n.document_id WHERE {unread_where}"
        )
        unread = self.store.query(unread_sql, params)[0]["c"]
        for row in rows:
            row["position"] = row["entry_id"]
            row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
            row["read"] = row["entry_id"] <= up_to
        next_cursor = rows[limit - 1]["entry_id"] if len(rows) > limit else None
        return NotificationPage(rows[:limit], int(unread), next_cursor)
