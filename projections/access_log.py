"""The patient's access log: every action on their space, refused reads included.

One row per event that concerns a space, keyed by the event's notification id (which is
also the paging cursor: newest first). Documents and grantees are kept in small side
tables so that a log line can say "Dr Martin read 'Bilan sanguin'".

Titles are sealed to their document's key in the events, and never copied here (''): the
vault opens them for a page (``vault.reads.log_titles``), so a document's deletion or a
space's shredding leaves no title in these tables. Deposits recorded before document
keys existed hold a clear title, which is kept here until that document is deleted or
its space shredded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.access import Access
from domain.reads import codes_hidden_from
from domain.space import Space
from projections.access_log_devices import device_entry, is_device_event
from projections.access_log_space import space_entry
from projections.runner import Projection
from projections.source import Event
from projections.store import Row, ViewCursor, ViewStore
from wire.canonical_fast import loads
from wire.values import Role

#: how an action was performed, as RULES.md names it for the patient
HOW_BY_MODE = {
    "patient": "normal",
    "author": "normal",
    "grant": "normal",
    "care_team": "normal",
    "representative": "representative",
    "emergency": "emergency",
}

#: the columns of an ``access_log`` row, in the order ``copy_rows`` writes them
ENTRY_COLUMNS = (
    "entry_id",
    "space_id",
    "at",
    "actor_role",
    "actor_id",
    "actor_name",
    "actor_profession",
    "actor_organisation",
    "action",
    "document_id",
    "how",
    "outcome",
    "reason",
    "detail",
    "device_key_id",
    "actor_authentication",
)
UPSERT_DOCUMENT = """
INSERT INTO access_log_documents (document_id, space_id, title, type)
VALUES (%(document_id)s, %(space_id)s, %(title)s, %(type)s)
ON CONFLICT (document_id) DO UPDATE SET title = excluded.title
"""
#: '' is "no clear title here" (the column predates document keys and is NOT NULL)
FORGET_TITLE = "UPDATE access_log_documents SET title = '' WHERE document_id = %(document_id)s"
FORGET_SPACE_TITLES = """
UPDATE access_log_documents SET title = '' WHERE space_id = %(space_id)s AND title <> ''
"""
INSERT_GRANT = """
INSERT INTO access_log_grants (grant_id, space_id, grantee_id, grantee_name)
VALUES (%(grant_id)s, %(space_id)s, %(grantee_id)s, %(grantee_name)s)
"""


class AccessLogProjection(Projection):
    """Builds ``access_log`` (and its side tables) from space and access events."""

    name = "access_log"
    tables = ("access_log", "access_log_documents", "access_log_grants", "access_log_devices")

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""
        entries: list[dict[str, Any]] = []
        for notification_id, event in events:
            entry = self._entry(cursor, notification_id, event)
            if entry is not None:
                entries.append(entry)
        # Entries are never updated: appended in one COPY (side tables keep statements).
        cursor.copy_rows(
            "access_log", ENTRY_COLUMNS, [tuple(e[c] for c in ENTRY_COLUMNS) for e in entries]
        )

    def _entry(self, cursor: ViewCursor, entry_id: int, event: Event) -> dict[str, Any] | None:
        if isinstance(event, Space.Provisioned):
            return _row(entry_id, event.originator_id, event.at, event.actor, "provision")
        if isinstance(event, Space.Deposited):
            cursor.execute(
                UPSERT_DOCUMENT,
                {
                    "document_id": event.document_id,
                    "space_id": event.originator_id,
                    # a clear title only from deposits made before document keys
                    "title": "" if event.document_key else event.title,
                    "type": event.type,
                },
            )
            action = "deposit" if event.version == 1 else "new_version"
            return _row(
                entry_id,
                event.originator_id,
                event.at,
                event.author,
                action,
                document_id=event.document_id,
                detail={"version": event.version},
            )
        if isinstance(event, Space.DocumentDeleted):
            cursor.execute(FORGET_TITLE, {"document_id": event.document_id})
            return _row(
                entry_id,
                event.originator_id,
                event.at,
                event.actor,
                "delete",
                document_id=event.document_id,
            )
        if isinstance(event, Space.Granted):
            cursor.execute(
                INSERT_GRANT,
                {
                    "grant_id": event.grant_id,
                    "space_id": event.originator_id,
                    "grantee_id": event.grantee["id"],
                    "grantee_name": event.grantee["name"],
                },
            )
            detail = {
                "grant_id": str(event.grant_id),
                "grantee": event.grantee,
                "scope": event.scope,
                "expires_at": event.expires_at.isoformat() if event.expires_at else None,
            }
            return _row(
                entry_id, event.originator_id, event.at, event.actor, "grant", detail=detail
            )
        if isinstance(event, Space.Revoked):
            grantee = cursor.fetch(
                "SELECT grantee_id, grantee_name FROM access_log_grants WHERE grant_id = %(g)s",
                {"g": event.grant_id},
            )
            detail = {"grant_id": str(event.grant_id), "grantee": grantee[0] if grantee else None}
            return _row(
                entry_id, event.originator_id, event.at, event.actor, "revoke", detail=detail
            )
        if isinstance(event, Space.GrantChanged):
            # Granted again: the same grant, changed; a "grant" line naming its id.
            found = cursor.fetch(
                "SELECT grantee_id, grantee_name FROM access_log_grants WHERE grant_id = %(g)s",
                {"g": event.grant_id},
            )
            detail = {
                "grant_id": str(event.grant_id),
                "grantee": {"id": found[0]["grantee_id"], "name": found[0]["grantee_name"]}
                if found
                else None,
                "scope": event.scope,
                "expires_at": event.expires_at.isoformat() if event.expires_at else None,
                "basis": event.basis,
                "changed": True,
            }
            return _row(
                entry_id, event.originator_id, event.at, event.actor, "grant", detail=detail
            )
        if isinstance(event, Access.Read):
            return _row(
                entry_id,
                event.space_id,
                event.at,
                event.reader,
                "read",
                document_id=event.document_id,
                how=HOW_BY_MODE.get(event.mode, event.mode),
                detail={"version": event.version, "basis": event.mode},
                device_key_id=event.reader_key_id,  # the log shows which device read
            )
        if isinstance(event, Access.Exported):
            # one line for the act; the documents it holds are read lines of their own
            detail = {"export_id": str(event.export_id), "documents": event.documents}
            return _row(entry_id, event.space_id, event.at, event.reader, "export", detail=detail)
        if isinstance(event, Access.Refused):
            return _row(
                entry_id,
                event.space_id,
                event.at,
                event.reader,
                "read",
                document_id=event.document_id,
                outcome="refused",
                reason=event.rule,
            )
        if isinstance(event, Space.Event):
            if isinstance(event, Space.Shredded):
                cursor.execute(FORGET_SPACE_TITLES, {"space_id": event.originator_id})
            return space_entry(cursor, entry_id, event, _row)
        if is_device_event(event):
            return device_entry(cursor, entry_id, event, _row)
        return None


#: every action an entry may name: what the patient filters the log by (an unknown
#: filter is refused, not silently empty); ``_row`` refuses any other, so a new kind of
#: entry cannot be forgotten here
ACTIONS = frozenset(
    {
        "provision", "oppose", "open", "activate", "code", "close", "reopen",
        "request_deletion", "delete_space", "deposit", "new_version", "delete", "read",
        "grant", "revoke", "care_team", "mask", "unmask", "hide_from_representatives",
        "hold_for_announcement", "announcement_pending", "release_to_patient", "block",
        "unblock", "attending_physician", "setting", "add_representative",
        "end_representation", "emergency_access", "device_request", "device_approve",
        "device_revoke", "device_code", "export",
    }
)  # fmt: skip


def _row(
    entry_id: int,
    space_id: UUID,
    at: datetime,
    actor: dict[str, Any],
    action: str,
    *,
    document_id: UUID | None = None,
    how: str = "normal",
    outcome: str = "allowed",
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    device_key_id: str | None = None,
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"access-log action {action!r} is not in ACTIONS")
    if how == "normal" and actor["role"] == "representative":
        how = "representative"  # a representative acts on the patient's behalf
    return {
        "entry_id": entry_id,
        "space_id": space_id,
        "at": at,
        "actor_role": actor["role"],
        "actor_id": actor["id"],
        "actor_name": actor["name"],
        "actor_profession": actor.get("profession"),
        "actor_organisation": actor.get("organisation"),
        "action": action,
        "document_id": document_id,
        "how": how,
        "outcome": outcome,
        "reason": reason,
        "detail": json.dumps(detail or {}, sort_keys=True),
        "device_key_id": device_key_id,
        # how they logged in, when their token said (events before 0016 do not)
        "actor_authentication": actor.get("authentication"),
    }


def known_document_clauses(role: Role, table: str = "d") -> list[str]:
    """SQL conditions on the joined ``access_log_documents`` row (alias ``table``) that
    keep out what a reader of ``role`` may not know exists (``codes_hidden_from``)."""
    # Only the domain's code names (fixed identifiers, columns of that table) are
    # interpolated here.
    return [f"COALESCE({table}.{code}, 0) = 0" for code in codes_hidden_from(role)]


@dataclass(frozen=True)
class LogFilter:
    """Optional filters of an access-log query."""

    actor_id: str | None = None
    document_id: UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: whose log it is: rows about documents this role may not know of stay out
    reader_role: Role = Role.PATIENT


@dataclass(frozen=True)
class LogPage:
    """One page of a space's access log, newest first."""

    entries: list[Row]
    next_cursor: int | None


class AccessLog:
    """Queries over the access log view."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def page(
        self,
        space_id: UUID,
        *,
        before: int | None = None,
        limit: int = 50,
        where: LogFilter | None = None,
    ) -> LogPage:
        """Entries of one space older than cursor ``before``, at most ``limit`` of them."""
        where = where or LogFilter()
        clauses = ["l.space_id = %(space_id)s"]
        params: dict[str, Any] = {"space_id": space_id, "limit": limit + 1}
        if before is not None:
            clauses.append("l.entry_id < %(before)s")
            params["before"] = before
        for column, value in (
            ("actor_id", where.actor_id),
            ("document_id", where.document_id),
            ("action", where.action),
        ):
            if value is not None:
                clauses.append(f"l.{column} = %({column})s")
                params[column] = value
        if where.since is not None:
            clauses.append("l.at >= %(since)s")
            params["since"] = where.since
        if where.until is not None:
            clauses.append("l.at < %(until)s")
            params["until"] = where.until
        clauses += known_document_clauses(where.reader_role)
        # Only our own clause strings are interpolated; every value is a bound parameter.
        sql = (
            "SELECT l.*, d.title AS document_title, d.type AS document_type, "  # noqa: S608
            "v.name AS device_name "
            "FROM access_log l LEFT JOIN access_log_documents d ON d.document_id = l.document_id "
            "LEFT JOIN access_log_devices v ON v.owner_role = l.actor_role "
            "AND v.owner_id = l.actor_id AND v.key_id = l.device_key_id "
            f"WHERE {' AND '.join(clauses)} ORDER BY l.entry_id DESC LIMIT %(limit)s"
        )
        rows = self.store.query(sql, params)
        for row in rows:
            row["detail"] = loads(row["detail"]) if row["detail"] else {}
        next_cursor = rows[limit - 1]["entry_id"] if len(rows) > limit else None
        return LogPage(rows[:limit], next_cursor)
