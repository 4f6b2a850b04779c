"""Access views: who may read what, right now, for the patient's and professionals' lists.

The issue: "per patient, who may read what right now (grants with scope and expiry,
blocked professionals, emergency-access setting); per professional, the spaces they
may read; per document, who may read it".

.. important::
   These views are for **display and lists only**. Authorisation never reads them: a
   read is decided on the space aggregate itself (``domain/policy.py::decide_read``,
   invariant 4), so a view that lags behind the log can show a stale list but can never
   let anyone read. "Right now" is the view's now: expiry is evaluated at query time
   against ``now``, revocations and blocks as far as the view has projected.

Tables (``migrations/*/0007.access_views.sql``), all rebuildable from the events:

* ``view_grants``: one row per grant (consent or care team), with its scope (kind, and
  sorted JSON lists of types and document ids), expiry and revocation;
* ``view_blocks``: the professionals a space's holder blocked;
* ``view_space_settings``: per space, its patient, life-cycle status, emergency-access
  settings and attending physician;
* ``view_documents``: per document, its space, type, and whether deleted, masked or
  held for an announcement (then the patient may not yet know it exists).

``AccessViews.for_document`` follows the read rules a list can follow without the
aggregate: space open, an active grant covering the document, not blocked, the
profession matrix (rule 4), and masks (rule 5, with the attending physician's
exception). Authors and emergency accesses are not listed: they are not grants.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.matrix import DEFAULT_MATRIX, Matrix
from domain.records import GrantBasis, Setting, SpaceStatus
from domain.space import Space
from domain.values import ScopeKind
from projections.runner import Event, Projection
from projections.store import Row, ViewCursor, ViewStore
from wire.values import DocumentType, Profession

INSERT_GRANT = """
INSERT INTO view_grants (grant_id, space_id, grantee_id, grantee_name, grantee_profession,
    scope_kind, scope_types, scope_documents, granted_at, expires_at, revoked_at, care_team)
VALUES (%(grant_id)s, %(space_id)s, %(grantee_id)s, %(grantee_name)s, %(grantee_profession)s,
    %(scope_kind)s, %(scope_types)s, %(scope_documents)s, %(granted_at)s, %(expires_at)s,
    NULL, %(care_team)s)
"""

#: life-cycle events and the status they leave the space in
_STATUS: dict[type, SpaceStatus] = {
    Space.OpeningScheduled: SpaceStatus.PENDING,
    Space.Opposed: SpaceStatus.OPPOSED,
    Space.Activated: SpaceStatus.OPEN,
    Space.Opened: SpaceStatus.OPEN,
    Space.Reopened: SpaceStatus.OPEN,
    Space.Shredded: SpaceStatus.DELETED,
}

#: the settings this view keeps, and their columns
_SETTING_COLUMNS = {
    Setting.EMERGENCY_ACCESS_FORBIDDEN.value: "emergency_forbidden",
    Setting.EMERGENCY_REVEALS_MASKED.value: "emergency_reveals_masked",
    Setting.ATTENDING_PHYSICIAN_SEES_MASKED.value: "attending_physician_sees_masked",
}

#: statuses in which nobody reads (rule 1); grants are revoked on closure anyway
_NOT_READABLE = (SpaceStatus.OPPOSED.value, SpaceStatus.CLOSED.value, SpaceStatus.DELETED.value)

#: an active grant at %(now)s: not revoked, not expired
_ACTIVE = "g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > %(now)s)"
#: the same, unaliased, at an event's instant %(at)s
_ACTIVE_AT = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > %(at)s)"


class AccessViewsProjection(Projection):
    """Builds the access views from space events (grants, blocks, settings, documents)."""

    name = "access_views"
    tables = ("view_grants", "view_blocks", "view_space_settings", "view_documents")

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""
        for _, event in events:
            self._apply(cursor, event)

    def _apply(self, cursor: ViewCursor, event: Event) -> None:
        space = getattr(event, "originator_id", None)
        if isinstance(event, Space.Provisioned):
            cursor.execute(
                "INSERT INTO view_space_settings (space_id, patient_id, status) "
                "VALUES (%(s)s, %(p)s, %(status)s)",
                {"s": space, "p": event.patient_id, "status": SpaceStatus.OPEN.value},
            )
        elif isinstance(event, Space.Granted | Space.CareTeamJoined):
            self._granted(cursor, event, care_team=isinstance(event, Space.CareTeamJoined))
        elif isinstance(event, Space.GrantChanged):
            self._changed(cursor, event)
        elif isinstance(event, Space.Revoked):
            # As the domain replays it: the grant ends, and so does every other grant of
            # the same professional active then (only old, stacked streams have any).
            params = {"at": event.at, "g": event.grant_id, "s": space}
            cursor.execute(
                "UPDATE view_grants SET revoked_at = %(at)s "
                "WHERE grant_id = %(g)s AND revoked_at IS NULL",
                params,
            )
            cursor.execute(
                f"UPDATE view_grants SET revoked_at = %(at)s WHERE space_id = %(s)s "  # noqa: S608
                f"AND grantee_id = (SELECT grantee_id FROM view_grants WHERE grant_id = %(g)s) "
                f"AND {_ACTIVE_AT}",
                params,
            )
        elif isinstance(event, Space.Blocked):
            params = {"s": space, "p": event.professional["id"]}
            cursor.execute(
                "DELETE FROM view_blocks WHERE space_id = %(s)s AND professional_id = %(p)s",
                params,
            )
            cursor.execute(
                "INSERT INTO view_blocks (space_id, professional_id) VALUES (%(s)s, %(p)s)",
                params,
            )
        elif isinstance(event, Space.Unblocked):
            cursor.execute(
                "DELETE FROM view_blocks WHERE space_id = %(s)s AND professional_id = %(p)s",
                {"s": space, "p": event.professional_id},
            )
        elif isinstance(event, Space.AttendingPhysicianDesignated):
            cursor.execute(
                "UPDATE view_space_settings SET attending_physician_id = %(p)s "
                "WHERE space_id = %(s)s",
                {"s": space, "p": event.physician["id"] if event.physician else None},
            )
        elif isinstance(event, Space.SettingChanged):
            column = _SETTING_COLUMNS.get(event.setting)
            if column is not None:
                cursor.execute(
                    f"UPDATE view_space_settings SET {column} = %(v)s "  # noqa: S608 - ours
                    "WHERE space_id = %(s)s",
                    {"s": space, "v": int(event.value)},
                )
        elif isinstance(event, Space.Deposited):
            if event.version == 1:
                cursor.execute(
                    "INSERT INTO view_documents (document_id, space_id, type) "
                    "VALUES (%(d)s, %(s)s, %(t)s)",
                    {"d": event.document_id, "s": space, "t": event.type},
                )
        elif isinstance(event, Space.DocumentDeleted):
            self._document(cursor, event.document_id, "deleted", 1)
        elif isinstance(event, Space.Masked):
            self._document(cursor, event.document_id, "masked", 1)
        elif isinstance(event, Space.Unmasked):
            self._document(cursor, event.document_id, "masked", 0)
        elif isinstance(event, Space.HeldForAnnouncement):
            self._document(cursor, event.document_id, "held", 1)
        elif isinstance(event, Space.ReleasedToPatient):
            self._document(cursor, event.document_id, "held", 0)
        elif isinstance(event, Space.Closed):
            # Closing ends every grant (domain/space_life.py); the view says so too.
            self._status(cursor, space, SpaceStatus.CLOSED)
            cursor.execute(
                "UPDATE view_grants SET revoked_at = %(at)s "
                "WHERE space_id = %(s)s AND revoked_at IS NULL",
                {"s": space, "at": event.at},
            )
        elif status := _status_after(event):
            self._status(cursor, space, status)
            if isinstance(event, Space.Shredded):
                cursor.execute(
                    "UPDATE view_documents SET deleted = 1 WHERE space_id = %(s)s", {"s": space}
                )

    def _granted(self, cursor: ViewCursor, event: Any, *, care_team: bool) -> None:
        # One active grant per professional: a new one supersedes the active one (only
        # old, stacked streams have any), which this view shows as ended then.
        cursor.execute(
            "UPDATE view_grants SET revoked_at = %(at)s WHERE space_id = %(s)s "  # noqa: S608
            f"AND grantee_id = %(p)s AND {_ACTIVE_AT}",
            {"at": event.at, "s": event.originator_id, "p": event.grantee["id"]},
        )
        scope = event.scope
        cursor.execute(
            INSERT_GRANT,
            {
                "grant_id": event.grant_id,
                "space_id": event.originator_id,
                "grantee_id": event.grantee["id"],
                "grantee_name": event.grantee.get("name"),
                "grantee_profession": event.grantee.get("profession"),
                "scope_kind": scope["kind"],
                "scope_types": json.dumps(sorted(scope.get("types", []))),
                "scope_documents": json.dumps(sorted(str(d) for d in scope.get("documents", []))),
                "granted_at": event.at,
                "expires_at": event.expires_at,
                "care_team": int(care_team),
            },
        )

    def _changed(self, cursor: ViewCursor, event: Any) -> None:
        # Granted again: the same grant with a new scope, expiry and basis.
        scope = event.scope
        cursor.execute(
            "UPDATE view_grants SET scope_kind = %(scope_kind)s, scope_types = %(scope_types)s, "
            "scope_documents = %(scope_documents)s, expires_at = %(expires_at)s, "
            "care_team = %(care_team)s WHERE grant_id = %(grant_id)s",
            {
                "grant_id": event.grant_id,
                "scope_kind": scope["kind"],
                "scope_types": json.dumps(sorted(scope.get("types", []))),
                "scope_documents": json.dumps(sorted(str(d) for d in scope.get("documents", []))),
                "expires_at": event.expires_at,
                "care_team": int(event.basis == GrantBasis.CARE_TEAM.value),
            },
        )

    def _document(self, cursor: ViewCursor, document_id: UUID, column: str, value: int) -> None:
        cursor.execute(
            f"UPDATE view_documents SET {column} = %(v)s "  # noqa: S608 - names are ours
            "WHERE document_id = %(d)s",
            {"d": document_id, "v": value},
        )

    def _status(self, cursor: ViewCursor, space: Any, status: SpaceStatus) -> None:
        cursor.execute(
            "UPDATE view_space_settings SET status = %(status)s WHERE space_id = %(s)s",
            {"s": space, "status": status.value},
        )


def _grant(row: Row) -> Row:
    """A grant row in its public form: scope decoded, care team as a bool."""
    return {
        "grant_id": row["grant_id"],
        "space_id": row["space_id"],
        "grantee": {
            "id": row["grantee_id"],
            "name": row["grantee_name"],
            "profession": row["grantee_profession"],
        },
        "scope": {
            "kind": row["scope_kind"],
            "types": json.loads(row["scope_types"]),
            "documents": json.loads(row["scope_documents"]),
        },
        "granted_at": _when(row["granted_at"]),
        "expires_at": _when(row["expires_at"]),
        "care_team": bool(row["care_team"]),
    }


def _covers(grant: Row, document: Row) -> bool:
    """True when a (public-form) grant's scope covers a document row."""
    scope = grant["scope"]
    if scope["kind"] == ScopeKind.SPACE.value:
        return True
    if scope["kind"] == ScopeKind.TYPES.value:
        return document["type"] in scope["types"]
    return str(document["document_id"]) in scope["documents"]


class AccessViews:
    """Queries over the access views. Display only: authorisation reads the space."""

    def __init__(self, store: ViewStore, matrix: Matrix = DEFAULT_MATRIX) -> None:
        self.store = store
        self.matrix = matrix

    def document(self, document_id: UUID | str) -> Row | None:
        """A document's space, type and flags (deleted, masked, held), if projected."""
        rows = self.store.query(
            "SELECT * FROM view_documents WHERE document_id = %(d)s", {"d": _uuid(document_id)}
        )
        if not rows:
            return None
        row = rows[0]
        for flag in ("deleted", "masked", "held"):
            row[flag] = bool(row[flag])
        return row

    def settings(self, space_id: UUID | str) -> Row | None:
        """A space's patient, status, emergency settings and attending physician."""
        rows = self.store.query(
            "SELECT * FROM view_space_settings WHERE space_id = %(s)s", {"s": _uuid(space_id)}
        )
        if not rows:
            return None
        row = rows[0]
        for column in _SETTING_COLUMNS.values():
            row[column] = bool(row[column])
        return row

    def active_grants(self, space_id: UUID | str, now: datetime) -> list[Row]:
        """The space's grants active at ``now`` (not revoked, not expired), oldest first."""
        rows = self.store.query(
            f"SELECT g.* FROM view_grants g WHERE g.space_id = %(s)s AND {_ACTIVE} "  # noqa: S608
            "ORDER BY g.granted_at, g.grant_id",
            {"s": _uuid(space_id), "now": now},
        )
        return [_grant(row) for row in rows]

    def blocked(self, space_id: UUID | str) -> list[str]:
        """The professionals the space's holder blocked, sorted."""
        rows = self.store.query(
            "SELECT professional_id FROM view_blocks WHERE space_id = %(s)s "
            "ORDER BY professional_id",
            {"s": _uuid(space_id)},
        )
        return [row["professional_id"] for row in rows]

    def for_patient(self, space_id: UUID | str, now: datetime) -> Row:
        """Who may read the space at ``now``: active grants (scope, expiry), blocks, settings."""
        return {
            "space_id": str(space_id),
            "settings": self.settings(space_id),
            "grants": self.active_grants(space_id, now),
            "blocked": self.blocked(space_id),
        }

    def for_professional(self, professional_id: str, now: datetime) -> list[Row]:
        """The spaces ``professional_id`` may read at ``now``, with the patient and scopes.

        One row per grant: an active, unexpired, unrevoked grant to them, in a space that
        has not blocked them and where reading is possible (not opposed, closed, deleted).
        """
        rows = self.store.query(
            "SELECT g.*, s.patient_id FROM view_grants g "  # noqa: S608 - constants only
            "JOIN view_space_settings s ON s.space_id = g.space_id "
            f"WHERE g.grantee_id = %(p)s AND {_ACTIVE} "
            "AND s.status NOT IN (%(x1)s, %(x2)s, %(x3)s) "
            "AND NOT EXISTS (SELECT 1 FROM view_blocks b "
            "WHERE b.space_id = g.space_id AND b.professional_id = g.grantee_id) "
            "ORDER BY s.patient_id, g.granted_at, g.grant_id",
            {"p": professional_id, "now": now, **_not_readable()},
        )
        return [{**_grant(row), "patient_id": row["patient_id"]} for row in rows]

    def for_document(self, document_id: UUID | str, now: datetime) -> list[Row]:
        """The professionals who may read the document at ``now`` through a grant.

        A grant covers it by whole space, by its type, or by listing it; blocked
        professionals, professions the matrix refuses the type, and (for a masked
        document) everyone but an attending physician allowed to see masked documents
        are left out. A deleted document, or one in a closed space, has no readers.
        One entry per professional (their first covering grant), sorted by id.
        """
        document = self.document(document_id)
        if document is None or document["deleted"]:
            return []
        settings = self.settings(document["space_id"])
        if settings is None or settings["status"] in _NOT_READABLE:
            return []
        blocked = set(self.blocked(document["space_id"]))
        readers: dict[str, Row] = {}
        for grant in self.active_grants(document["space_id"], now):
            grantee = grant["grantee"]
            if grantee["id"] in blocked or grantee["id"] in readers or not _covers(grant, document):
                continue
            if not self._profession_allows(grantee["profession"], document["type"]):
                continue
            if document["masked"] and not (
                settings["attending_physician_sees_masked"]
                and grantee["id"] == settings["attending_physician_id"]
            ):
                continue
            readers[grantee["id"]] = grant
        return [readers[key] for key in sorted(readers)]

    def _profession_allows(self, profession: str | None, document_type: str) -> bool:
        try:
            return self.matrix.allows(Profession(profession), DocumentType(document_type))
        except ValueError:
            return False


def _status_after(event: Event) -> SpaceStatus | None:
    """The status a life-cycle event leaves its space in (``None``: not one of them)."""
    for kind, status in _STATUS.items():
        if isinstance(event, kind):
            return status
    return None


def _not_readable() -> dict[str, str]:
    return {f"x{i}": status for i, status in enumerate(_NOT_READABLE, start=1)}


def _when(value: datetime | str | None) -> datetime | None:
    """An instant as an aware datetime, whether the database kept a type or ISO text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).astimezone(UTC)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
