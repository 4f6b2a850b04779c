"""Request and response bodies of the rules' routes (life of a space, masks, access
rules, emergency access, representatives). Same conventions as ``api.models``: requests
only bound sizes and shapes, the domain validates; responses never carry key material
(the one-time code is answered once, to the platform service that prints the letter).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.models import ID_MAX, TEXT_MAX, GranteeIn, GrantPublic, RequestModel, ResponseModel
from domain.representatives import BASIS_REFERENCE_MAX

REGISTER_MAX = 10_000


# -- life of a space ---------------------------------------------------------------------


class RepresentativeIn(RequestModel):
    """A legal representative: their own INS, a name, why they represent."""

    id: str = Field(max_length=ID_MAX, description="the representative's INS")
    name: str = Field(max_length=TEXT_MAX)
    kind: Literal["parent", "guardian"] = "parent"


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


# -- who may read ------------------------------------------------------------------------


class SettingIn(RequestModel):
    """A space-level setting's new value."""

    value: bool


class PhysicianIn(RequestModel):
    """The attending physician (a doctor), or ``null`` for none."""

    physician: GranteeIn | None


class CareTeamIn(RequestModel):
    """A professional joining the patient's care team."""

    professional: GranteeIn
    expires_at: dt.datetime | None = None


class CareTeamOut(BaseModel):
    """The care-team grant (the patient sees and may revoke it like any grant)."""

    grant_id: UUID


class RepresentativeOut(ResponseModel):
    """A representative as the holder sees them."""

    id: str
    name: str
    kind: str
    since: dt.datetime
    until: dt.datetime | None
    ended_at: dt.datetime | None
    active: bool


class EmergencyOut(ResponseModel):
    """An emergency access as the holder sees it, or as declared."""

    access_id: UUID
    expires_at: dt.datetime


class EmergencySummaryOut(ResponseModel):
    """A past or current emergency access."""

    access_id: UUID
    professional_id: str
    professional_name: str
    justification: str
    started_at: dt.datetime
    expires_at: dt.datetime
    active: bool


class RuleGrantOut(GrantPublic):
    """A grant, with why it exists: ``consent`` or ``care_team``."""

    basis: str


class AccessRulesOut(ResponseModel):
    """Who may currently read what (RULES.md, "What the patient sees")."""

    grants: list[RuleGrantOut]
    blocked: list[dict[str, str | None]]
    attending_physician: dict[str, str] | None
    settings: dict[str, bool]
    representatives: list[RepresentativeOut]
    emergency_accesses: list[EmergencySummaryOut]


class LegalBasisIn(RequestModel):
    """The act an appointment rests on: a birth registration (parent), a court
    decision (guardian)."""

    reference: str = Field(
        min_length=1,
        max_length=BASIS_REFERENCE_MAX,
        description="the act's reference (birth registration, court decision number)",
    )
    date: dt.date = Field(description="the act's date (registration, decision)")


class RepresentativeCreate(RequestModel):
    """Appoint a legal representative (an authorised registry service only)."""

    representative: RepresentativeIn
    basis: LegalBasisIn
    until: dt.datetime | None = Field(None, description="guardians only; parents: majority")


class EmergencyIn(RequestModel):
    """Declare an emergency access (bris de glace)."""

    justification: str = Field(max_length=TEXT_MAX)
