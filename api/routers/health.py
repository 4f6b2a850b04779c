"""Liveness: answers without touching any backend."""

from __future__ import annotations

from fastapi import APIRouter

from api.models import Health

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get("", name="health")
def health() -> Health:
    """The process is up and serving."""
    return Health()
