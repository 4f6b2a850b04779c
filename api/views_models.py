"""Response models of the views the API serves from projections: notifications, who
may read what (the access views), and the regulator's trail.

Every answer of the API has a model (the OpenAPI document says what comes back); these
are built from the projections' rows by ``from_row``, never by hand in a route.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.grants_models import ScopeOut


class NotificationBy(BaseModel):
    """Who caused the notification, as the recipient is shown them."""

    name: str | None
    profession: str | None
    organisation: str | None


class NotificationPublic(BaseModel):
    """One notification; ``position`` is what an acknowledgement names."""

    position: int
    cursor: int
    kind: str
    at: dt.datetime
    space_id: UUID | None
    document_id: UUID | None
    by: NotificationBy
    detail: dict[str, Any]
    read: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> NotificationPublic:
        """A notification from a ``notifications`` view row."""
        return cls(
            position=row["position"],
            cursor=row["entry_id"],
            kind=row["kind"],
            at=row["at"],
            space_id=row["space_id"],
            document_id=row["document_id"],
            by=NotificationBy(
                name=row["actor_name"],
                profession=row["actor_profession"],
                organisation=row["actor_organisation"],
            ),
            detail=row["detail"],
            read=row["read"],
        )


class NotificationPage(BaseModel):
    """The caller's notifications, newest first; pass ``next_cursor`` as ``before``."""

    notifications: list[NotificationPublic]
    unread: int
    next_cursor: int | None


class Acknowledged(BaseModel):
    """Every notification up to ``up_to`` is read."""

    up_to: int


class ReadableSpace(BaseModel):
    """A space the calling professional may read now, through one grant."""

    patient_id: str
    space_id: UUID
    grant_id: UUID
    scope: ScopeOut
    expires_at: dt.datetime | None
    care_team: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ReadableSpace:
        """From a row of ``AccessViews.for_professional``."""
        return cls.model_validate({name: row[name] for name in cls.model_fields})


class ReadableSpaces(BaseModel):
    """The spaces the calling professional may read now."""

    spaces: list[ReadableSpace]


class RepresentedSpace(BaseModel):
    """A space the calling legal representative acts in now: its patient, its status
    (pending, open, closed...) and the representation (a parent's ends at majority)."""

    patient_id: str
    space_id: UUID
    status: str
    kind: str = Field(description="parent or guardian")
    since: dt.datetime
    until: dt.datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RepresentedSpace:
        """From a row of ``AccessViews.for_representative``."""
        return cls.model_validate({name: row[name] for name in cls.model_fields})


class RepresentedSpaces(BaseModel):
    """The spaces the calling legal representative acts in now."""

    spaces: list[RepresentedSpace]


class ReaderProfessional(BaseModel):
    """A professional who may read a document."""

    id: str
    name: str | None
    profession: str | None


class DocumentReader(BaseModel):
    """A professional who may read the document now, and the grant that lets them."""

    professional: ReaderProfessional
    grant_id: UUID
    scope_kind: str
    expires_at: dt.datetime | None
    care_team: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DocumentReader:
        """From a row of ``AccessViews.for_document``."""
        return cls(
            professional=ReaderProfessional.model_validate(row["grantee"]),
            grant_id=row["grant_id"],
            scope_kind=row["scope"]["kind"],
            expires_at=row["expires_at"],
            care_team=row["care_team"],
        )


class DocumentReaders(BaseModel):
    """Who may read one document now, through a grant."""

    document_id: UUID
    readers: list[DocumentReader]


class TrailPublicKey(BaseModel):
    """The trail's Ed25519 verification key."""

    public_key: str
    key_id: str


class PublishedTrailKey(BaseModel):
    """One key of the trail's key set: its id, public key and validity period."""

    key_id: str
    public_key: str
    not_before: str | None = Field(description="RFC 3339 UTC; null: since the start")
    not_after: str | None = Field(description="RFC 3339 UTC, excluded; null: still signing")


class TrailKeySetOut(BaseModel):
    """Every key that signed the trail (``coffre-trail-keys/1``, docs/trail.md)."""

    format: str
    keys: list[PublishedTrailKey]


class CheckpointOut(BaseModel):
    """A signed tree head: the trail's size and root at a time, signed by the trail."""

    origin: str
    size: int
    root: str
    time: str
    key_id: str
    signature: str


class ConsistencyProof(BaseModel):
    """The RFC 9162 consistency proof between two tree sizes (nodes in hex)."""

    old: int
    new: int
    proof: list[str]
