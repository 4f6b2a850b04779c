"""Legal representatives through the SDK: an authorised registry service appoints and
ends them (``api.routers.representatives``, ``vault.representatives``); they are listed
by ``client.blocks.BlockMethods.access_rules``.

::

    with CoffreClient(url, registry_token) as coffre:
        coffre.add_representative(ins, parent_ins, "Parent", "parent",
                                  basis_reference="birth-2026-001", basis_date=born)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import quote

from client.io import space_path
from client.transport import Transport

__all__ = ["RepresentativeKind", "RepresentativeMethods"]

RepresentativeKind = Literal["parent", "guardian"]


class RepresentativeMethods(Transport):
    """Calls on a patient's legal representatives (platform services)."""

    def add_representative(
        self,
        patient_id: str,
        representative_id: str,
        name: str,
        kind: RepresentativeKind = "parent",
        until: datetime | None = None,
        *,
        basis_reference: str,
        basis_date: date,
    ) -> None:
        """Appoint a legal representative (an authorised registry service only): a
        parent (until majority) or a guardian (until ``until``, or until ended), on
        the act of ``basis_reference`` and ``basis_date`` (the birth registration, the
        court decision). Raises ``Forbidden`` for any other caller."""
        body: dict[str, Any] = {
            "representative": {"id": representative_id, "name": name, "kind": kind},
            "basis": {"reference": basis_reference, "date": basis_date.isoformat()},
        }
        if until is not None:
            body["until"] = until.isoformat()
        self._request("POST", f"{space_path(patient_id)}/representatives", json=body)

    def end_representation(self, patient_id: str, representative_id: str) -> None:
        """End a legal representation."""
        who = quote(str(representative_id), safe="")
        self._request("DELETE", f"{space_path(patient_id)}/representatives/{who}")
