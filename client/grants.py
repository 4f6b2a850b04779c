"""Grants through the SDK: grant a professional a scope, list the grants, revoke
(``api.routers.grants``, ``vault.grants``).

::

    with CoffreClient(url, patient_token) as coffre:
        grant_id = coffre.grant(ins, {"id": rpps, "name": "Dr A", "profession": "doctor"})
        coffre.revoke(ins, grant_id)    # the grantee's very next read is refused
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from client.io import as_uuid, space_path
from client.shapes import parse_grant
from client.transport import Transport
from wire.dto import GrantSummary

__all__ = ["GrantMethods"]


class GrantMethods(Transport):
    """Calls on the grants of a space."""

    def grant(
        self,
        patient_id: str,
        grantee: Mapping[str, Any],
        scope: Mapping[str, Any] | None = None,
        expires_at: datetime | None = None,
    ) -> UUID:
        """Grant a professional (``{id, name, profession, organisation?}``) access to a
        scope (default: the whole space); returns the grant id. One grant per
        professional: granting again changes their active grant and returns its id."""
        body: dict[str, Any] = {"grantee": dict(grantee), "scope": dict(scope or {"kind": "space"})}
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return UUID(
            self._request("POST", f"{space_path(patient_id)}/grants", json=body)["grant_id"]
        )

    def grants(self, patient_id: str) -> list[GrantSummary]:
        """Every grant of the space, active or not (the patient only)."""
        answer = self._request("GET", f"{space_path(patient_id)}/grants")
        return [parse_grant(item) for item in answer["grants"]]

    def revoke(self, patient_id: str, grant_id: UUID | str) -> None:
        """Revoke a grant; the grantee's very next read is refused."""
        self._request("DELETE", f"{space_path(patient_id)}/grants/{as_uuid(grant_id, 'grant_id')}")

    def revoke_professional(self, patient_id: str, professional_id: str) -> None:
        """Revoke a professional's access (their active grant, whatever its id); raises
        ``UnknownGrant`` when they hold none."""
        self._request(
            "DELETE", f"{space_path(patient_id)}/grants", params={"professional": professional_id}
        )
