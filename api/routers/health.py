"""Liveness: answers without touching any backend."""

from __future__ import annotations

from api.models import Health
from api.routers.common import Router

router = Router(prefix="/v1/health", tags=["health"])


@router.get("", name="health")
def health() -> Health:
    """The process is up and serving."""
    return Health()
