"""Request and response bodies of who may read a space (``api.routers.blocks``):
settings, the attending physician, the care team, and the access rules (who may
currently read what). Same conventions as ``api.models``.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel

from api.emergency_models import EmergencySummaryOut
from api.grants_models import GranteeIn, GrantPublic
from api.models import RequestModel, ResponseModel
from api.representatives_models import RepresentativeOut


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
