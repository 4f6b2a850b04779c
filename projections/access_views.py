"""Access views: who may read what, right now, for the patient's and professionals' lists.

The issue: "per patient, who may read what right now (grants with scope and expiry,
blocked professionals, emergency-access setting); per professional, the spaces they
may read; per document, who may read it".

.. important::
   These views are for **display and lists only**. Authorisation never reads them: a
   read is decided on the space aggregate itself (``domain.reads.decide_read``,
   invariant 4), so a view that lags behind the log can show a stale list but can never
   let anyone read. "Right now" is the view's now: expiry is evaluated at query time
   against ``now``, revocations and blocks as far as the view has projected.

The view decides nothing itself: it keeps the rows the domain's read decisions need and,
at query time, assembles them into a ``domain.reads.SpaceFacts`` (the same concept
objects the aggregate is made of) and asks ``domain.reads`` — grant coverage, blocks,
the profession matrix, masks and their exceptions are the domain's alone.

Tables (``migrations/*/0007.access_views.sql``, ``0011.access_view_facts.sql``), all
rebuildable from the events:

* ``view_grants``: one row per grant (consent or care team), with its scope (kind, and
  sorted JSON lists of types and document ids), expiry and revocation;
* ``view_blocks``: the professionals a space's holder blocked;
* ``view_space_settings``: per space, its patient, life-cycle status and opening
  deadline, settings and attending physician;
* ``view_documents``: per document, its space, type, author, deletion and codes
  (``masked``, ``invisible_to_representatives``, the hold of ``invisible_to_patient``);
* ``view_emergencies``: emergency accesses, with their expiry and end.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.records import GrantBasis, SpaceStatus
from domain.space import Space
from projections.access_views_facts import SETTING_COLUMNS
from projections.access_views_query import AccessViews
from projections.runner import Projection
from projections.source import Event
from projections.store import ViewCursor

__all__ = ["AccessViews", "AccessViewsProjection"]

INSERT_GRANT = """
INSERT INTO view_grants (grant_id, space_id, grantee_id, grantee_name, grantee_profession,
    scope_kind, scope_types, scope_documents, granted_at, expires_at, revoked_at, care_team)
VALUES (%(grant_id)s, %(space_id)s, %(grantee_id)s, %(grantee_name)s, %(grantee_profession)s,
    %(scope_kind)s, %(scope_types)s, %(scope_documents)s, %(granted_at)s, %(expires_at)s,
    NULL, %(care_team)s)
"""

INSERT_DOCUMENT = """
INSERT INTO view_documents (document_id, space_id, type, author_role, author_id,
    author_profession)
VALUES (%(d)s, %(s)s, %(t)s, %(role)s, %(author)s, %(profession)s)
"""

INSERT_EMERGENCY = """
INSERT INTO view_emergencies (access_id, space_id, professional_id, professional_name,
    professional_profession, started_at, expires_at, ended_at)
VALUES (%(a)s, %(s)s, %(p)s, %(name)s, %(profession)s, %(at)s, %(expires_at)s, NULL)
"""

#: life-cycle events and the status they leave the space in
_STATUS: dict[type, SpaceStatus] = {
    Space.Opposed: SpaceStatus.OPPOSED,
    Space.Activated: SpaceStatus.OPEN,
    Space.Opened: SpaceStatus.OPEN,
    Space.Shredded: SpaceStatus.DELETED,
}

#: the grant or emergency still running at an event's instant %(at)s (as it was applied)
_RUNNING_AT = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > %(at)s)"

# A professional's running grants in one space, ended at %(at)s: by a new grant to them
# (%(p)s) or by the revoke of one of theirs (%(g)s). Both find their rows through the
# index on (space_id, grantee_id), so they cost the same whatever number of spaces the
# professional holds grants in (migration 0020).
SUPERSEDE_GRANTS = (
    "UPDATE view_grants SET revoked_at = %(at)s WHERE space_id = %(s)s "  # noqa: S608 - ours
    f"AND grantee_id = %(p)s AND {_RUNNING_AT}"
)
REVOKE_GRANTEE_OTHERS = (
    "UPDATE view_grants SET revoked_at = %(at)s WHERE space_id = %(s)s "  # noqa: S608 - ours
    "AND grantee_id = (SELECT grantee_id FROM view_grants WHERE grant_id = %(g)s) "
    f"AND {_RUNNING_AT}"
)


class AccessViewsProjection(Projection):
    """Builds the access views from space events (grants, blocks, settings, documents)."""

    #: tracked under a new name since the views keep the read decisions' facts
    #: (0011.access_view_facts): a store made before replays them from the first event
    name = "access_views_facts"
    tables = (
        "view_grants",
        "view_blocks",
        "view_space_settings",
        "view_documents",
        "view_emergencies",
    )

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""
        for _, event in events:
            self._apply(cursor, event)

    def _apply(self, cursor: ViewCursor, event: Event) -> None:
        space = getattr(event, "originator_id", None)
        if isinstance(event, Space.Provisioned):
            cursor.execute(
                "INSERT INTO view_space_settings (space_id, patient_id, status, opens_at) "
                "VALUES (%(s)s, %(p)s, %(status)s, %(at)s)",
                {"s": space, "p": event.patient_id, "status": "open", "at": event.at},
            )
        elif isinstance(event, Space.Granted | Space.CareTeamJoined):
            self._granted(cursor, event, care_team=isinstance(event, Space.CareTeamJoined))
        elif isinstance(event, Space.GrantChanged):
            self._changed(cursor, event)
        elif isinstance(event, Space.Revoked):
            # As the domain replays it (Grants.revoke): the grant ends, and so does every
            # other grant of the same professional running then (only old, stacked streams).
            params = {"at": event.at, "g": event.grant_id, "s": space}
            cursor.execute(
                "UPDATE view_grants SET revoked_at = %(at)s "
                "WHERE grant_id = %(g)s AND revoked_at IS NULL",
                params,
            )
            cursor.execute(REVOKE_GRANTEE_OTHERS, params)
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
            self._space(cursor, space, "attending_physician_id", _id(event.physician))
        elif isinstance(event, Space.SettingChanged):
            column = SETTING_COLUMNS.get(event.setting)
            if column is not None:
                self._space(cursor, space, column, int(event.value))
        elif isinstance(event, Space.Deposited):
            if event.version == 1:
                cursor.execute(
                    INSERT_DOCUMENT,
                    {
                        "d": event.document_id,
                        "s": space,
                        "t": event.type,
                        "role": event.author["role"],
                        "author": event.author["id"],
                        "profession": event.author.get("profession"),
                    },
                )
        elif isinstance(event, Space.DocumentDeleted):
            self._document(cursor, event.document_id, deleted=1, deleted_at=event.at)
        elif isinstance(event, Space.Masked):
            self._document(cursor, event.document_id, masked=1)
        elif isinstance(event, Space.Unmasked):
            self._document(cursor, event.document_id, masked=0)
        elif isinstance(event, Space.HiddenFromRepresentatives):
            self._document(cursor, event.document_id, invisible_to_representatives=1)
        elif isinstance(event, Space.HeldForAnnouncement):
            self._document(
                cursor, event.document_id, invisible_to_patient=1, visible_at=event.visible_at
            )
        elif isinstance(event, Space.ReleasedToPatient):
            self._document(cursor, event.document_id, invisible_to_patient=0, released_at=event.at)
        elif isinstance(event, Space.EmergencyAccessInvoked):
            cursor.execute(
                INSERT_EMERGENCY,
                {
                    "a": event.access_id,
                    "s": space,
                    "p": event.actor["id"],
                    "name": event.actor.get("name"),
                    "profession": event.actor.get("profession"),
                    "at": event.at,
                    "expires_at": event.expires_at,
                },
            )
        else:
            self._life(cursor, space, event)

    def _life(self, cursor: ViewCursor, space: Any, event: Event) -> None:
        if isinstance(event, Space.OpeningScheduled):
            self._space(cursor, space, "status", SpaceStatus.PENDING.value)
            self._space(cursor, space, "opens_at", event.opens_at)
        elif isinstance(event, Space.Reopened):
            self._space(cursor, space, "status", SpaceStatus.OPEN.value)
            self._space(cursor, space, "opens_at", event.at)
        elif isinstance(event, Space.Closed):
            # Closing ends every grant and emergency access (Grants.end_all,
            # Emergencies.end_all); the view records the same ends.
            self._space(cursor, space, "status", SpaceStatus.CLOSED.value)
            params = {"s": space, "at": event.at}
            for table, column in (("view_grants", "revoked_at"), ("view_emergencies", "ended_at")):
                cursor.execute(
                    f"UPDATE {table} SET {column} = %(at)s "  # noqa: S608 - names are ours
                    f"WHERE space_id = %(s)s AND {column} IS NULL",
                    params,
                )
        elif status := _status_after(event):
            self._space(cursor, space, "status", status.value)
            if isinstance(event, Space.Shredded):
                cursor.execute(
                    "UPDATE view_documents SET deleted = 1, deleted_at = %(at)s "
                    "WHERE space_id = %(s)s AND deleted_at IS NULL",
                    {"s": space, "at": event.at},
                )

    def _granted(self, cursor: ViewCursor, event: Any, *, care_team: bool) -> None:
        # One active grant per professional: a new one supersedes the running one (only
        # old, stacked streams have any), which this view records as ended then.
        cursor.execute(
            SUPERSEDE_GRANTS,
            {"at": event.at, "s": event.originator_id, "p": event.grantee["id"]},
        )
        cursor.execute(
            INSERT_GRANT,
            {
                "grant_id": event.grant_id,
                "space_id": event.originator_id,
                "grantee_id": event.grantee["id"],
                "grantee_name": event.grantee.get("name"),
                "grantee_profession": event.grantee.get("profession"),
                **_scope_columns(event.scope),
                "granted_at": event.at,
                "expires_at": event.expires_at,
                "care_team": int(care_team),
            },
        )

    def _changed(self, cursor: ViewCursor, event: Any) -> None:
        # Granted again: the same grant with a new scope, expiry and basis.
        cursor.execute(
            "UPDATE view_grants SET scope_kind = %(scope_kind)s, scope_types = %(scope_types)s, "
            "scope_documents = %(scope_documents)s, expires_at = %(expires_at)s, "
            "care_team = %(care_team)s WHERE grant_id = %(grant_id)s",
            {
                "grant_id": event.grant_id,
                **_scope_columns(event.scope),
                "expires_at": event.expires_at,
                "care_team": int(event.basis == GrantBasis.CARE_TEAM.value),
            },
        )

    def _document(self, cursor: ViewCursor, document_id: UUID, **values: Any) -> None:
        assignments = ", ".join(f"{column} = %({column})s" for column in values)
        cursor.execute(
            f"UPDATE view_documents SET {assignments} "  # noqa: S608 - names are ours
            "WHERE document_id = %(d)s",
            {"d": document_id, **values},
        )

    def _space(self, cursor: ViewCursor, space: Any, column: str, value: Any) -> None:
        cursor.execute(
            f"UPDATE view_space_settings SET {column} = %(v)s "  # noqa: S608 - names are ours
            "WHERE space_id = %(s)s",
            {"s": space, "v": value},
        )


def _scope_columns(scope: dict[str, Any]) -> dict[str, str]:
    return {
        "scope_kind": scope["kind"],
        "scope_types": json.dumps(sorted(scope.get("types", []))),
        "scope_documents": json.dumps(sorted(str(d) for d in scope.get("documents", []))),
    }


def _id(actor: dict[str, Any] | None) -> str | None:
    return actor["id"] if actor else None


def _status_after(event: Event) -> SpaceStatus | None:
    """The status a life-cycle event leaves its space in (``None``: not one of them)."""
    for kind, status in _STATUS.items():
        if isinstance(event, kind):
            return status
    return None
