"""The life of a space through the SDK: provision, activate, oppose, close, and where a
space is in its life (``api.routers.life``, ``vault.life``).

::

    with CoffreClient(url, service_token) as coffre:
        space = coffre.provision(ins)           # its one-time code goes on the letter
    with CoffreClient(url, patient_token) as coffre:
        coffre.activate(ins, code)
        coffre.space_state(ins)["status"]       # "open"
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from client.io import space_path
from client.shapes import parse_space_key
from client.transport import Transport
from wire.dto import ProvisionedSpace

__all__ = ["LifeMethods"]


class LifeMethods(Transport):
    """Calls on the life of a space."""

    def provision(self, patient_id: str) -> ProvisionedSpace:
        """Provision a patient's space (services only): its key, when it opens, and the
        one-time code for the person's letter (given once, never stored in clear)."""
        data = self._request("POST", "/v1/spaces", json={"patient_id": patient_id})
        key = parse_space_key(data)
        opens_at = datetime.fromisoformat(data["opens_at"]) if data.get("opens_at") else None
        return ProvisionedSpace(
            key.patient_id,
            key.space_id,
            key.key_id,
            key.public_key,
            one_time_code=data["one_time_code"],
            opens_at=opens_at,
            reimported=bool(data.get("reimported")),
        )

    def activate(self, patient_id: str, code: str) -> None:
        """The patient activates their space with the letter's one-time code (it opens)."""
        self._request("POST", f"{space_path(patient_id)}/activation", json={"code": code})

    def space_state(self, patient_id: str) -> dict[str, Any]:
        """Where the space is in its life: ``{patient_id, status, opens_at,
        activated_at, closed_at, archive_until, deletion_due_at}`` (the holder only)."""
        return dict(self._request("GET", f"{space_path(patient_id)}/state"))

    def oppose(self, patient_id: str, code: str) -> None:
        """Oppose the space before it opens, with the letter's one-time code."""
        self._request("POST", f"{space_path(patient_id)}/opposition", json={"code": code})

    def close_space(self, patient_id: str, express_deletion: bool = False) -> dict[str, Any]:
        """Close the space (archived, or deleted soon with ``express_deletion``);
        returns its new state."""
        body = {"express_deletion": bool(express_deletion)}
        return dict(self._request("POST", f"{space_path(patient_id)}/closure", json=body))

    def request_deletion(self, patient_id: str) -> dict[str, Any]:
        """Ask for a closed space's archive to be deleted without waiting; its new state."""
        return dict(self._request("POST", f"{space_path(patient_id)}/deletion-request"))
