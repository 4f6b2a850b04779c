"""Request and response bodies of emergency access (``api.routers.emergency``), and an
emergency access as the holder sees it in the access rules. Same conventions as
``api.models``.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import Field

from api.models import TEXT_MAX, RequestModel, ResponseModel


class EmergencyIn(RequestModel):
    """Declare an emergency access (bris de glace)."""

    justification: str = Field(max_length=TEXT_MAX)


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
