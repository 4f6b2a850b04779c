"""The access views' rows as the domain's concept objects: a ``domain.reads.SpaceFacts``
the read decisions answer from (``projections.access_views``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from domain.blocks import Blocks
from domain.emergency import Emergencies
from domain.grants import Grants
from domain.life import Life
from domain.reads import SpaceFacts
from domain.records import (
    Announcement,
    Document,
    EmergencyAccess,
    Grant,
    GrantBasis,
    Setting,
    SpaceStatus,
)
from domain.representatives import Representatives
from domain.values import Actor, Scope
from projections.store import Row
from wire.values import DocumentType, Role

#: the settings this view keeps, and their columns
SETTING_COLUMNS = {
    Setting.EMERGENCY_ACCESS_FORBIDDEN.value: "emergency_forbidden",
    Setting.EMERGENCY_REVEALS_MASKED.value: "emergency_reveals_masked",
    Setting.ATTENDING_PHYSICIAN_SEES_MASKED.value: "attending_physician_sees_masked",
}


def space_facts(
    settings: Row,
    blocked: list[str],
    grants: list[Row],
    documents: list[Row],
    emergencies: list[Row],
) -> SpaceFacts:
    """A space's facts from its rows (grants in order of creation)."""
    return SpaceFacts(
        patient_id=settings["patient_id"],
        life=Life(
            key_id="",
            public_key="",
            opens_at=instant(settings["opens_at"]),
            status=SpaceStatus(settings["status"]),
        ),
        documents={doc.id: doc for doc in map(_document, documents)},
        grants=_grants(grants),
        representatives=Representatives(),
        blocks=_blocks(settings, blocked),
        emergency=_emergencies(emergencies),
    )


def grant_public(row: Row) -> Row:
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
        "granted_at": when(row["granted_at"]),
        "expires_at": when(row["expires_at"]),
        "care_team": bool(row["care_team"]),
    }


def _professional(actor_id: str, name: str | None, profession: str | None) -> Actor:
    # Rows come from stored events, validated when they were recorded: not checked again.
    return Actor.from_dict(
        {
            "role": Role.PROFESSIONAL.value,
            "id": actor_id,
            "name": name or "",
            "profession": profession,
        }
    )


def _document(row: Row) -> Document:
    author = Actor.from_dict(
        {
            "role": row["author_role"],
            "id": row["author_id"],
            "name": "",
            "profession": row["author_profession"],
        }
    )
    visible_at = when(row["visible_at"])
    return Document(
        id=as_uuid(row["document_id"]),
        type=DocumentType(row["type"]),
        author=author,
        deleted_at=when(row["deleted_at"]),
        masked=bool(row["masked"]),
        invisible_to_representatives=bool(row["invisible_to_representatives"]),
        announcement=None
        if visible_at is None
        else Announcement(
            notice_at=visible_at, visible_at=visible_at, released_at=when(row["released_at"])
        ),
    )


def _grants(rows: list[Row]) -> Grants:
    grants = Grants()
    for row in rows:
        public = grant_public(row)
        grant = Grant(
            id=as_uuid(row["grant_id"]),
            grantee=_professional(
                row["grantee_id"], row["grantee_name"], row["grantee_profession"]
            ),
            scope=Scope.from_dict(public["scope"]),
            granted_at=instant(row["granted_at"]),
            expires_at=when(row["expires_at"]),
            revoked_at=when(row["revoked_at"]),
            basis=GrantBasis.CARE_TEAM if row["care_team"] else GrantBasis.CONSENT,
        )
        grants[grant.id] = grant
    return grants


def _blocks(settings: Row, blocked: list[str]) -> Blocks:
    physician = settings["attending_physician_id"]
    return Blocks(
        blocked={p: _professional(p, None, None) for p in blocked},
        attending_physician=_professional(physician, None, None) if physician else None,
        settings={
            Setting(setting): bool(settings[column]) for setting, column in SETTING_COLUMNS.items()
        },
    )


def _emergencies(rows: list[Row]) -> Emergencies:
    emergencies = Emergencies()
    for row in rows:
        access = EmergencyAccess(
            id=as_uuid(row["access_id"]),
            professional=_professional(
                row["professional_id"], row["professional_name"], row["professional_profession"]
            ),
            justification="",
            started_at=instant(row["started_at"]),
            expires_at=instant(row["expires_at"]),
            ended_at=when(row["ended_at"]),
        )
        emergencies[access.id] = access
    return emergencies


def when(value: datetime | str | None) -> datetime | None:
    """An instant as an aware datetime, whether the database kept a type or ISO text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).astimezone(UTC)


def instant(value: datetime | str) -> datetime:
    moment = when(value)
    assert moment is not None  # a NOT NULL column
    return moment


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
