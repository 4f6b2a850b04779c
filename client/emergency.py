"""Emergency access (bris de glace) through the SDK (``api.routers.emergency``,
``vault.emergency``); the accesses declared on a space are listed by
``client.blocks.BlockMethods.access_rules``.

::

    with CoffreClient(url, professional_token) as coffre:
        access = coffre.invoke_emergency_access(ins, "unconscious, allergies unknown")
"""

from __future__ import annotations

from typing import Any

from client.io import space_path
from client.transport import Transport

__all__ = ["EmergencyMethods"]


class EmergencyMethods(Transport):
    """Calls on emergency access."""

    def invoke_emergency_access(self, patient_id: str, justification: str) -> dict[str, Any]:
        """Declare an emergency access (a professional): ``{access_id, expires_at}``.

        Raises ``Refused`` (the refusal is recorded) when the patient forbade it.
        """
        body = {"justification": justification}
        return dict(
            self._request("POST", f"{space_path(patient_id)}/emergency-accesses", json=body)
        )
