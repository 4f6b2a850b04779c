"""Request and response bodies of grants (``api.routers.grants``, and the grantee of a
block or an attending physician): same conventions as ``api.models``, requests only
bound sizes and shapes, the domain validates.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.models import ID_MAX, LIST_MAX, TEXT_MAX, RequestModel, ResponseModel, Uuid
from domain.values import Actor, Scope
from wire.values import Profession, Role


class GranteeIn(RequestModel):
    """The professional a grant is for."""

    id: str = Field(max_length=ID_MAX, description="RPPS number")
    name: str = Field(max_length=TEXT_MAX)
    profession: str = Field(
        max_length=ID_MAX, json_schema_extra={"enum": [p.value for p in Profession]}
    )
    organisation: str | None = Field(None, max_length=TEXT_MAX)

    def actor(self) -> Actor:
        """The grantee as the domain knows them (validated there)."""
        return Actor(
            role=Role.PROFESSIONAL,
            id=self.id,
            name=self.name,
            profession=self.profession,  # type: ignore[arg-type]
            organisation=self.organisation,
        )


class ScopeIn(RequestModel):
    """What a grant covers."""

    kind: Literal["space", "types", "documents"]
    types: list[str] = Field(default_factory=list, max_length=LIST_MAX)
    documents: list[Uuid] = Field(default_factory=list, max_length=LIST_MAX)

    def scope(self) -> Scope:
        """The domain's scope (validated there)."""
        return Scope(self.kind, frozenset(self.types), frozenset(self.documents))  # type: ignore[arg-type]


class GrantCreate(RequestModel):
    """The patient grants a professional access."""

    grantee: GranteeIn
    scope: ScopeIn
    expires_at: dt.datetime | None = None


class GrantCreated(BaseModel):
    """The new grant's id."""

    grant_id: UUID


class ScopeOut(BaseModel):
    """What a grant covers, as stored."""

    kind: str
    types: list[str]
    documents: list[UUID]


class GrantPublic(ResponseModel):
    """A grant as the patient sees it."""

    grant_id: UUID
    grantee_id: str
    grantee_name: str
    grantee_profession: str | None
    scope: ScopeOut
    granted_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool


class GrantList(BaseModel):
    """Every grant of the space, active or not."""

    grants: list[GrantPublic]
