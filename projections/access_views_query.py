"""Queries over the access views (``projections.access_views``): display only.

Every "who may" answer is the domain's (``domain.reads``), asked of the facts the views
kept; nothing here decides coverage, blocks, the profession matrix or masks.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.life import Life
from domain.matrix import DEFAULT_MATRIX, Matrix
from domain.reads import SpaceFacts, grant_in_force, readers
from domain.records import Representation, RepresentativeKind, SpaceStatus
from domain.values import Actor
from projections.access_views_facts import (
    SETTING_COLUMNS,
    as_uuid,
    grant_public,
    instant,
    space_facts,
    when,
)
from projections.store import Row, ViewStore

#: the spaces where the professional %(p)s holds a grant not revoked
_HOLDS_GRANT = (
    "space_id IN (SELECT space_id FROM view_grants WHERE grantee_id = %(p)s AND revoked_at IS NULL)"
)


class AccessViews:
    """Queries over the access views. Display only: authorisation reads the space.

    Every "who may" answer is the domain's (``domain.reads``), asked of the facts the
    views kept (``facts``).
    """

    def __init__(self, store: ViewStore, matrix: Matrix = DEFAULT_MATRIX) -> None:
        self.store = store
        self.matrix = matrix

    def document(self, document_id: UUID | str) -> Row | None:
        """A document's space, type and flags (deleted and the codes), if projected."""
        rows = self.store.query(
            "SELECT * FROM view_documents WHERE document_id = %(d)s", {"d": as_uuid(document_id)}
        )
        if not rows:
            return None
        row = rows[0]
        for flag in ("deleted", "masked", "invisible_to_patient", "invisible_to_representatives"):
            row[flag] = bool(row[flag])
        return row

    def settings(self, space_id: UUID | str) -> Row | None:
        """A space's patient, status, emergency settings and attending physician."""
        rows = self.store.query(
            "SELECT * FROM view_space_settings WHERE space_id = %(s)s", {"s": as_uuid(space_id)}
        )
        if not rows:
            return None
        row = rows[0]
        for column in SETTING_COLUMNS.values():
            row[column] = bool(row[column])
        row.pop("opens_at", None)
        return row

    def facts(self, space_id: UUID | str) -> SpaceFacts | None:
        """What the views know of a space, as the domain's read decisions read it."""
        space = as_uuid(space_id)
        rows = self.store.query(
            "SELECT * FROM view_space_settings WHERE space_id = %(s)s", {"s": space}
        )
        if not rows:
            return None
        settings = rows[0]
        params = {"s": space}
        blocked = self.store.query(
            "SELECT professional_id FROM view_blocks WHERE space_id = %(s)s", params
        )
        grants = self.store.query(
            "SELECT * FROM view_grants WHERE space_id = %(s)s ORDER BY granted_at, grant_id",
            params,
        )
        documents = self.store.query("SELECT * FROM view_documents WHERE space_id = %(s)s", params)
        emergencies = self.store.query(
            "SELECT * FROM view_emergencies WHERE space_id = %(s)s", params
        )
        return space_facts(
            settings,
            [row["professional_id"] for row in blocked],
            grants,
            documents,
            emergencies,
        )

    def active_grants(self, space_id: UUID | str, now: datetime) -> list[Row]:
        """The space's grants active at ``now`` (not revoked, not expired), oldest first."""
        facts = self.facts(space_id)
        if facts is None:
            return []
        active = {grant.id for grant in facts.grants.active(now)}
        return [
            grant_public(row)
            for row in self._grant_rows(space_id)
            if as_uuid(row["grant_id"]) in active
        ]

    def blocked(self, space_id: UUID | str) -> list[str]:
        """The professionals the space's holder blocked, sorted."""
        rows = self.store.query(
            "SELECT professional_id FROM view_blocks WHERE space_id = %(s)s "
            "ORDER BY professional_id",
            {"s": as_uuid(space_id)},
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

        One row per space where the domain finds a grant in force for them
        (``domain.reads.grant_in_force``: active, in an open space that did not block
        them), sorted by patient.
        """
        params = {"p": professional_id}
        rows = self.store.query(
            "SELECT g.*, s.patient_id FROM view_grants g "
            "JOIN view_space_settings s ON s.space_id = g.space_id "
            "WHERE g.grantee_id = %(p)s AND g.revoked_at IS NULL "
            "ORDER BY s.patient_id, g.granted_at, g.grant_id",
            params,
        )
        facts_of = self._grant_facts(params)
        spaces: list[Row] = []
        for row in rows:
            facts = facts_of.get(row["space_id"])
            grant = grant_in_force(facts, professional_id, now) if facts else None
            if grant is not None and grant.id == as_uuid(row["grant_id"]):
                spaces.append({**grant_public(row), "patient_id": row["patient_id"]})
        return spaces

    def _grant_facts(self, params: Row) -> dict[str, SpaceFacts]:
        """What ``grant_in_force`` reads (life, blocks, grants) of every space where the
        professional ``params["p"]`` holds a grant not revoked, by space id: one query
        per table, whatever their number. A GP's list of thousands of patients took five
        queries and every document row of every space (1.8 s at 2,000 patients of 20
        documents). Documents and emergency accesses, which it does not read, are left
        out, so these facts answer ``grant_in_force`` and nothing else."""
        settings = self.store.query(
            f"SELECT * FROM view_space_settings WHERE {_HOLDS_GRANT}",  # noqa: S608 - ours
            params,
        )
        blocked: dict[str, list[str]] = {}
        for row in self.store.query(
            f"SELECT space_id, professional_id FROM view_blocks WHERE {_HOLDS_GRANT}",  # noqa: S608
            params,
        ):
            blocked.setdefault(row["space_id"], []).append(row["professional_id"])
        grants: dict[str, list[Row]] = {}
        for row in self.store.query(
            f"SELECT * FROM view_grants WHERE {_HOLDS_GRANT} "  # noqa: S608 - ours
            "ORDER BY space_id, granted_at, grant_id",
            params,
        ):
            grants.setdefault(row["space_id"], []).append(row)
        return {
            row["space_id"]: space_facts(
                row, blocked.get(row["space_id"], []), grants.get(row["space_id"], []), [], []
            )
            for row in settings
        }

    def for_representative(self, representative: Actor, now: datetime) -> list[Row]:
        """The spaces ``representative`` acts in at ``now`` as a legal representative,
        with the patient, the space's status and the representation, sorted by patient.

        In force is the domain's answer (``Representation.active``: not ended, and for
        a parent before the patient's majority), asked of ``view_representations``
        (``projections.representations``). Spaces of every status are listed: a parent
        may oppose a child's space before it opens, or ask for a closed one's deletion.
        """
        rows = self.store.query(
            "SELECT r.*, s.patient_id, s.status, s.opens_at FROM view_representations r "
            "JOIN view_space_settings s ON s.space_id = r.space_id "
            "WHERE r.representative_id = %(r)s ORDER BY s.patient_id",
            {"r": representative.id},
        )
        spaces: list[Row] = []
        for row in rows:
            representation = Representation(
                representative=representative,
                name=representative.name,  # the one asking: their own name
                kind=RepresentativeKind(row["kind"]),
                since=instant(row["since"]),
                until=when(row["until"]),
                ended_at=when(row["ended_at"]),
            )
            if representation.active(now):
                # the status at ``now`` as the domain tells it (open from its deadline on,
                # whether or not the scheduler recorded the opening yet)
                life = Life(
                    key_id="",
                    public_key="",
                    opens_at=instant(row["opens_at"]),
                    status=SpaceStatus(row["status"]),
                )
                spaces.append(
                    {
                        "patient_id": row["patient_id"],
                        "space_id": row["space_id"],
                        "status": life.status_at(now).value,
                        "kind": row["kind"],
                        "since": representation.since,
                        "until": representation.until,
                    }
                )
        return spaces

    def for_document(self, document_id: UUID | str, now: datetime) -> list[Row]:
        """The grantees who may read the document at ``now``, one entry each (their
        active grant), sorted by id: ``domain.reads.readers`` asked of the views' facts.

        Authors and emergency accesses are not listed: they are not grants.
        """
        document = self.document(document_id)
        if document is None:
            return []
        facts = self.facts(document["space_id"])
        if facts is None:
            return []
        allowed = readers(facts, as_uuid(document_id), now, self.matrix)
        listed: dict[str, Row] = {}
        for row in self._grant_rows(document["space_id"]):
            grant = facts.grants[as_uuid(row["grant_id"])]
            grantee = grant.grantee.id
            if grantee in allowed and grantee not in listed and grant.active(now):
                listed[grantee] = grant_public(row)
        return [listed[key] for key in sorted(listed)]

    def _grant_rows(self, space_id: UUID | str) -> list[Row]:
        return self.store.query(
            "SELECT * FROM view_grants WHERE space_id = %(s)s ORDER BY granted_at, grant_id",
            {"s": as_uuid(space_id)},
        )
