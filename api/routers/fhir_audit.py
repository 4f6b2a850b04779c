"""ITI-81 ``GET /fhir/AuditEvent?patient=…&date=…``: what happened in a space as FHIR R4
AuditEvents (IHE BALP shapes), for its patient and for the regulator.

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

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Depends, Query, Request

from api.deps import FreshViewsDep, VaultDep, require_roles
from api.fhir_models import (
    FhirResponse,
    base_url,
    cursor_of,
    instants_of,
    offset_of,
    patient_id_of,
    searchset,
)
from api.models import LogEntry
from api.routers.access_log import log_page
from api.routers.common import problem_responses
from domain.values import Actor, parse_patient_id
from projections.access_log import LogFilter
from projections.trail_export import TrailQuery
from wire.errors import InvalidInput
from wire.trail_fhir import BASE, DCM, REST, audit_event
from wire.values import Role

router = APIRouter(prefix="/fhir", tags=["fhir"], responses=problem_responses(401, 403, 404, 422))

PatientOrRegulator = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REGULATOR))]

DEFAULT_COUNT = 50
MAX_COUNT = 200
SEARCH_PARAMETERS = frozenset({"patient", "date", "_count", "_cursor"})

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


@router.get("/AuditEvent", name="find_audit_events", response_class=FhirResponse)
def find_audit_events(
    request: Request,
    vault: VaultDep,
    views: FreshViewsDep,
    actor: PatientOrRegulator,
    patient: Annotated[
        str, Query(max_length=300, description="the patient's INS, or ``<INS system>|<INS>``")
    ],
    date: Annotated[list[str] | None, Query(max_length=2)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT)] = DEFAULT_COUNT,
    cursor: Annotated[str | None, Query(alias="_cursor", max_length=40)] = None,
) -> FhirResponse:
    """ITI-81: a patient's own access log, or (for the regulator) the trail of their
    space, as a searchset of AuditEvents, newest first for the patient."""
    unknown = set(request.query_params) - SEARCH_PARAMETERS
    if unknown:
        raise InvalidInput(f"unsupported search parameter {sorted(unknown)[0]}", field="query")
    patient_id = patient_id_of(patient) if "|" in patient else parse_patient_id(patient)
    since, until = _window(date or [])
    position = offset_of(cursor)
    following: int | None
    if actor.role is Role.REGULATOR:
        # the trail's position is an offset into this very selection of the trail
        query = TrailQuery(patient_id=patient_id, since=since, until=until)
        events = [
            entry["resource"]
            for entry in views.trail().export_fhir(query)["entry"]
            if entry["resource"]["resourceType"] == "AuditEvent"
        ]
        page = events[position : position + count]
        following = position + count if position + count < len(events) else None
        total: int | None = len(events)
    else:
        # the log's position is its own cursor (the entry to read before)
        where = LogFilter(since=since, until=until)
        log = log_page(patient_id, vault, views, actor, where, position or None, count)
        page = [_from_log(entry, patient_id) for entry in log.entries]
        following, total = log.next_cursor, None
    base = base_url(request)
    params: dict[str, Any] = {"patient": patient, "_count": count}
    if date:
        params["date"] = date
    links = [{"relation": "self", "url": _url(base, params)}]
    if following is not None:
        links.append(
            {"relation": "next", "url": _url(base, {**params, "_cursor": cursor_of(following)})}
        )
    bundle = searchset([_profiled(event) for event in page], total or 0, links, base)
    if total is None:
        del bundle["total"]  # the log is paged by its cursor: it is not counted here
    return FhirResponse(bundle)


def _url(base: str, params: dict[str, Any]) -> str:
    return f"{base}/AuditEvent?{urlencode(params, doseq=True)}"


def _window(values: list[str]) -> tuple[Any, Any]:
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


def _from_log(entry: LogEntry, patient_id: str) -> dict[str, Any]:
    # the log's entry as the trail entry it stems from, rendered by the trail's renderer
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


def _profiled(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["type"]["code"]
    subtypes = [coding["code"] for coding in event.get("subtype", [])]
    if event["type"]["system"] == DCM and kind == "110113":
        return event  # an emergency override: no BALP profile says more than its codes
    for subtype in subtypes or [""]:
        profile = _PROFILES.get((kind, subtype))
        if profile is not None and event.get("subtype", [{}])[0].get("system") == REST:
            return {**event, "meta": {"profile": [_BALP + profile]}}
    return event
