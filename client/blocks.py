"""Blocks and a space's settings through the SDK: who may currently read what, blocked
professionals, the attending physician, the space-level settings (``api.routers.blocks``,
``vault.blocks``).

::

    with CoffreClient(url, patient_token) as coffre:
        coffre.block(ins, {"id": rpps, "name": "Dr B", "profession": "doctor"})
        coffre.change_setting(ins, "emergency_access_forbidden", True)
        coffre.access_rules(ins)["blocked"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

from client.io import space_path
from client.transport import Transport
from wire.errors import InvalidInput

__all__ = ["BlockMethods", "SettingName"]

#: the space-level settings the API knows (``domain.records.Setting``)
SettingName = Literal[
    "emergency_access_forbidden", "emergency_reveals_masked", "attending_physician_sees_masked"
]


class BlockMethods(Transport):
    """Calls on who may read a space: blocks, the attending physician, settings."""

    def access_rules(self, patient_id: str) -> dict[str, Any]:
        """Who may currently read what: ``{grants, blocked, attending_physician,
        settings, representatives, emergency_accesses}`` (the holder only)."""
        return dict(self._request("GET", f"{space_path(patient_id)}/access-rules"))

    def block(self, patient_id: str, professional: Mapping[str, Any]) -> None:
        """Block a professional (``{id, name, profession, organisation?}``) from every
        document of the space, grants or not."""
        self._request("PUT", f"{space_path(patient_id)}/blocks", json=dict(professional))

    def unblock(self, patient_id: str, professional_id: str) -> None:
        """Lift the block of a professional (by RPPS number)."""
        who = quote(str(professional_id), safe="")
        self._request("DELETE", f"{space_path(patient_id)}/blocks/{who}")

    def designate_attending_physician(
        self, patient_id: str, physician: Mapping[str, Any] | None
    ) -> None:
        """Name the attending physician (a doctor: ``{id, name, profession,
        organisation?}``), or ``None`` for none."""
        body = {"physician": None if physician is None else dict(physician)}
        self._request("PUT", f"{space_path(patient_id)}/attending-physician", json=body)

    def change_setting(self, patient_id: str, setting: SettingName | str, value: bool) -> None:
        """Set a space-level setting (see :data:`SettingName`) on or off."""
        if not isinstance(value, bool):
            raise InvalidInput("a setting is true or false", field="value")
        name = quote(str(setting), safe="")
        self._request("PUT", f"{space_path(patient_id)}/settings/{name}", json={"value": value})
