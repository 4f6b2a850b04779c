"""Response bodies of the web page's session routes (``api.routers.sessions``)."""

from __future__ import annotations

from pydantic import Field

from api.models import ResponseModel


class SessionPublic(ResponseModel):
    """Who the session is for, as their token says, and the token the page must echo
    in ``X-CSRF-Token`` on every change."""

    role: str
    id: str
    name: str = Field(description="the display name")
    profession: str | None = None
    organisation: str | None = None
    csrf_token: str
