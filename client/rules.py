"""The rules of a space in the SDK: its life, masks, blocks, settings, emergency access,
representatives, and the caller's own notifications.

Mixed into ``client.sdk.CoffreClient`` (``activate`` lives there)::

    with CoffreClient(url, patient_token) as coffre:
        coffre.mask(ins, document_id)
        coffre.hide_from_representatives(ins, document_id)
        coffre.change_setting(ins, "emergency_access_forbidden", True)
        page = coffre.notifications(unread=True)
        coffre.acknowledge_notifications(page["notifications"][0]["position"])

Each method is one route of ``api.routers`` (space_life, masks, access_rules,
emergency, representatives, notifications), with the same request body. Answers are
the API's JSON as plain dicts; failures raise the server's own ``CoffreError`` classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import quote
from uuid import UUID

from client.io import document_path, space_path
from wire.errors import InvalidInput

__all__ = ["RepresentativeKind", "RuleMethods", "SettingName"]

#: the space-level settings the API knows (``domain.records.Setting``)
SettingName = Literal[
    "emergency_access_forbidden", "emergency_reveals_masked", "attending_physician_sees_masked"
]
RepresentativeKind = Literal["parent", "guardian"]


class RuleMethods:
    """Rules-of-a-space calls; expects the ``_request`` of ``CoffreClient``."""

    _request: Callable[..., Any]

    # -- life of a space -------------------------------------------------------------

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

    # -- confidentiality of a document ------------------------------------------------

    def mask(self, patient_id: str, document_id: UUID | str) -> None:
        """Mask a document from professionals (its author still sees it)."""
        self._request("PUT", f"{document_path(patient_id, document_id)}/mask")

    def unmask(self, patient_id: str, document_id: UUID | str) -> None:
        """Show a masked document to professionals again (the holder only)."""
        self._request("DELETE", f"{document_path(patient_id, document_id)}/mask")

    def hide_from_representatives(self, patient_id: str, document_id: UUID | str) -> None:
        """Keep a document secret from the legal representatives
        (INVISIBLE_REPRESENTANTS_LEGAUX, a minor's right): the patient or its author.

        Deliberately one-way: no call lifts it, so a representative cannot undo it.
        """
        url = f"{document_path(patient_id, document_id)}/secret-from-representatives"
        self._request("PUT", url)

    def release_to_patient(self, patient_id: str, document_id: UUID | str) -> None:
        """Release a document held for an announcement consultation (INVISIBLE_PATIENT):
        the author only; the patient sees it at once.

        Raises ``Conflict`` when the document is not (or no longer) held.
        """
        self._request("POST", f"{document_path(patient_id, document_id)}/release")

    # -- who may read ---------------------------------------------------------------

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

    def invoke_emergency_access(self, patient_id: str, justification: str) -> dict[str, Any]:
        """Declare an emergency access (a professional): ``{access_id, expires_at}``.

        Raises ``Refused`` (the refusal is recorded) when the patient forbade it.
        """
        body = {"justification": justification}
        return dict(
            self._request("POST", f"{space_path(patient_id)}/emergency-accesses", json=body)
        )

    # -- legal representatives (platform services) -------------------------------------

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

    # -- the caller's notifications ----------------------------------------------------

    def notifications(
        self, unread: bool = False, before: int | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """One page of the caller's own notifications, newest first:
        ``{notifications: [...], unread: int, next_cursor}``. Each notification has a
        ``position`` (what :meth:`acknowledge_notifications` takes), ``kind``, ``at``,
        ``by``, ``document_id``, ``detail`` and ``read``."""
        params: dict[str, str] = {"limit": str(limit)}
        if unread:
            params["unread"] = "true"
        if before is not None:
            params["before"] = str(before)
        return dict(self._request("GET", "/v1/notifications", params=params))

    def acknowledge_notifications(self, up_to: int) -> int:
        """Mark the caller's notifications up to position ``up_to`` as read; returns it."""
        if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0:
            raise InvalidInput("up_to must be a notification position (>= 0)", field="up_to")
        answer = self._request("POST", "/v1/notifications/acknowledgements", json={"up_to": up_to})
        return int(answer["up_to"])
