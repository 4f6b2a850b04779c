"""Request and response bodies of the legal representatives' routes
(``api.routers.representatives``), and a representative as the holder sees them in the
access rules. Same conventions as ``api.models``: requests only bound sizes and shapes,
the domain validates.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api.models import ID_MAX, TEXT_MAX, RequestModel, ResponseModel
from domain.representatives import BASIS_REFERENCE_MAX


class RepresentativeIn(RequestModel):
    """A legal representative: their own INS, a name, why they represent. The name of
    an appointment is stored sealed to the space key (as the act's reference is)."""

    id: str = Field(max_length=ID_MAX, description="the representative's INS")
    name: str = Field(max_length=TEXT_MAX)
    kind: Literal["parent", "guardian"] = "parent"


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


class RepresentativeOut(ResponseModel):
    """A representative as the holder sees them."""

    id: str
    name: str = Field(description="their display name (stored sealed; opened for the holder)")
    kind: str
    since: dt.datetime
    until: dt.datetime | None
    ended_at: dt.datetime | None
    active: bool
