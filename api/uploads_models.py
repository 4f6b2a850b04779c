"""Request and response bodies of direct uploads (``api.routers.documents``). Same
conventions as ``api.models``; a completed upload answers ``api.models.Upload``, as the
relay upload does.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.models import TICKET_MAX, RequestModel, ResponseModel, SpaceKey


class DirectUploadIn(RequestModel):
    """Begin a direct upload of a ciphertext of ``size`` bytes."""

    size: int = Field(gt=0, description="the ciphertext's exact length in bytes")


class PartUrl(ResponseModel):
    """Where to PUT one part: exactly ``part_size`` bytes, the last part the rest."""

    number: int
    url: str
    alternates: list[str] = Field(
        default_factory=list,
        description="the same part's URL at the blob store's other endpoints: PUT there, "
        "in order, when ``url`` cannot be reached (no connection, 5xx)",
    )


class DirectUploadOut(ResponseModel):
    """A direct upload begun: PUT each part to its URL, then complete with ``upload``."""

    upload: str = Field(description="the upload ticket, for completing or aborting it")
    blob: str
    size: int
    part_size: int
    parts: list[PartUrl]
    expires_at: dt.datetime
    space_key: SpaceKey = Field(description="the key to seal the data key to, as .../key")
    completes_on_deposit: bool = Field(
        False,
        description="the deposit (POST .../documents) takes this ``upload`` ticket and "
        "the ``sha256`` in place of a receipt and completes the upload itself",
    )


class DirectUploadCompletion(RequestModel):
    """Complete a direct upload whose parts were all sent."""

    upload: str = Field(max_length=TICKET_MAX)
    sha256: str = Field(
        min_length=64,
        max_length=64,
        description="hex SHA-256 of the whole ciphertext sent, as the client computed it",
    )


class DirectUploadRef(RequestModel):
    """Names a direct upload by its ticket."""

    upload: str = Field(max_length=TICKET_MAX)
