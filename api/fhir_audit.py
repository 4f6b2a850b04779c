"""What happened in a space as FHIR R4 AuditEvents (IHE BALP shapes), for ITI-81's
``GET /fhir/AuditEvent?patient=…&date=…`` (``api.routers.fhir``): for the patient and
for the regulator.

* The patient gets their access log (``api.routers.access_log.log_page``: the reading
  is recorded, nothing about a document they may not know of), each entry shaped by the
  trail's own renderer (``wire.trail_fhir.audit_event``), so the wording is the log's
  and the trail's;
* the regulator gets the trail of the patient's space (``Trail.export_fhir``, the very
  AuditEvents of the verifiable export).

``date`` bounds the instants (``ge``/``gt`` a start, ``le``/``lt`` an end); paging by
``_count`` and an opaque ``_cursor``. BALP profiles are named in ``meta.profile``
where one applies.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, uuid5

from api.fhir_models import (
    instants_of,
)
from api.models import LogEntry
from wire.errors import InvalidInput
from wire.trail_fhir import BASE, DCM, REST, audit_event

_BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
#: (type code, subtype code) -> the BALP profile of that shape
_PROFILES = {
    ("110110", "read"): "PatientRead",
    ("rest", "create"): "PatientCreate",
    ("rest", "update"): "PatientUpdate",
    ("rest", "delete"): "PatientDelete",
}
#: an access-log action as the trail's event it stems from (``wire.trail_fhir.classify``
#: picks the AuditEvent's type from the event's name)
_EVENTS = {
    "provision": "Space.Provisioned",
    "oppose": "Space.Opposed",
    "open": "Space.Opened",
    "activate": "Space.Activated",
    "code": "Space.CodeIssued",
    "close": "Space.Closed",
    "reopen": "Space.Reopened",
    "request_deletion": "Space.DeletionRequested",
    "delete_space": "Space.Shredded",
    "deposit": "Space.Deposited",
    "new_version": "Space.Deposited",
    "delete": "Space.DocumentDeleted",
    "read": "Access.Read",
    "export": "Access.Exported",
    "grant": "Space.Granted",
    "care_team": "Space.Granted",
    "revoke": "Space.Revoked",
    "emergency_access": "Access.EmergencyAccess",
    "device_request": "Reader.DeviceRequested",
    "device_approve": "Reader.DeviceApproved",
    "device_revoke": "Reader.DeviceRevoked",
    "device_code": "Reader.EnrolmentCodeIssued",
}
_IDS = uuid5(NAMESPACE_URL, f"{BASE}/AuditEvent")


def window_of(values: list[str]) -> tuple[Any, Any]:
    """``(since, until)`` of ``date`` bounds (``ge``/``gt`` a start, ``le``/``lt`` an end)."""
    since = until = None
    for value in values:
        prefix, text = value[:2], value[2:]
        if prefix not in ("ge", "gt", "le", "lt"):
            raise InvalidInput("date takes ge, gt, le or lt bounds", field="date")
        low, high = instants_of(text)
        if prefix in ("ge", "gt"):
            since = low if prefix == "ge" else high
        else:
            until = high if prefix == "le" else low
    return since, until


def from_log(entry: LogEntry, patient_id: str) -> dict[str, Any]:
    """An access-log entry as an AuditEvent: the trail entry it stems from, rendered by
    the trail's own renderer (the same types and wording)."""
    refused = entry.outcome == "refused"
    event = "Access.Refused" if refused and entry.action == "read" else _EVENTS.get(entry.action)
    details: dict[str, Any] = {"mode": entry.how, "action": entry.action}
    if entry.document_id is not None:
        details.update(document_id=str(entry.document_id), type=entry.document_type)
    if entry.action in ("deposit", "new_version"):
        details["version"] = 1 if entry.action == "deposit" else 2
    if refused:
        details["rule"] = entry.reason
    source = {
        "event": event or f"Space.{entry.action}",
        "at": entry.at.isoformat(),
        "actor": entry.actor.model_dump(),
        "details": details,
        "leaf_index": entry.entry_id,
    }
    if refused and event is None:
        source["event"] = f"Space.{entry.action}Refused"
    rendered = audit_event(source, "", patient_id)
    rendered.pop("extension", None)  # no trail leaf: the log's entry is named by its id
    rendered["id"] = str(uuid5(_IDS, f"{patient_id}:{entry.entry_id}"))
    if entry.document_id is not None and entry.document_title:
        rendered["entity"][-1]["name"] = entry.document_title
    return rendered


def profiled(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with the BALP profile its shape follows in ``meta.profile``, if any."""
    kind = event["type"]["code"]
    subtypes = [coding["code"] for coding in event.get("subtype", [])]
    if event["type"]["system"] == DCM and kind == "110113":
        return event  # an emergency override: no BALP profile says more than its codes
    for subtype in subtypes or [""]:
        profile = _PROFILES.get((kind, subtype))
        if profile is not None and event.get("subtype", [{}])[0].get("system") == REST:
            return {**event, "meta": {"profile": [_BALP + profile]}}
    return event
