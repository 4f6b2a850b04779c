"""The routers of a space's rules (RULES.md), registered together by ``api.app``."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers import access_rules, emergency, masks, representatives, space_life

RULES_ROUTERS: tuple[APIRouter, ...] = (
    space_life.router,
    masks.router,
    access_rules.router,
    emergency.router,
    representatives.router,
)
