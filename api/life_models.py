"""Request and response bodies of the life of a space (``api.routers.life``): the
register, provisioning, the letter's code, closure, the space's state. Same conventions
as ``api.models``: requests only bound sizes and shapes, the domain validates; responses
never carry key material (the one-time code is answered once, to the platform service
that prints the letter).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, Field

from api.models import ID_MAX, RequestModel, ResponseModel
from api.representatives_models import RepresentativeIn

REGISTER_MAX = 10_000


class RegisterEntryIn(RequestModel):
    """One person of the insurer's register."""

    patient_id: str = Field(max_length=ID_MAX)
    birth_date: dt.date | None = None
    representatives: list[RepresentativeIn] = Field(default_factory=list, max_length=4)


class RegisterIn(RequestModel):
    """A batch of the insurer's register (idempotent)."""

    entries: list[RegisterEntryIn] = Field(max_length=REGISTER_MAX)


class ProvisionedOut(ResponseModel):
    """A new space: its key, when it opens, and the one-time code for the letter."""

    patient_id: str
    space_id: UUID
    key_id: str
    public_key: str
    one_time_code: str
    opens_at: dt.datetime | None
    reimported: bool = False


class RegisterOut(BaseModel):
    """What a register batch did."""

    provisioned: list[ProvisionedOut]
    already_provisioned: list[str]


class CodeIn(RequestModel):
    """The one-time code of the letter, as typed."""

    code: str = Field(max_length=64)


class ClosureIn(RequestModel):
    """Close the space; ``express_deletion`` skips the archive period."""

    express_deletion: bool = False


class SpaceStateOut(ResponseModel):
    """Where the space is in its life."""

    patient_id: str
    status: str
    opens_at: dt.datetime | None
    activated_at: dt.datetime | None
    closed_at: dt.datetime | None
    archive_until: dt.datetime | None
    deletion_due_at: dt.datetime | None
