"""A trail export as a FHIR R4 Bundle (type ``collection``) of AuditEvent resources.

Shapes follow IHE BALP where one applies:

* a read (``Access.Read`` / ``Access.Refused``): type DCM 110110 "Patient Record",
  subtype restful-interaction ``read``, action R (BALP PatientRead);
* an emergency access (a read whose mode is ``emergency``, or an ``*Emergency*``
  event): type DCM 110113 "Security Alert", subtype DCM 110127 "Emergency Override
  Started";
* deposits, new versions, deletions, provisioning: type ``rest`` with subtype
  create / update / delete (BALP Create/Update/Delete);
* the life of a space (opposition, activation, opening, closure, re-opening): ``rest``
  update; crypto-shredding: ``rest`` delete;
* grants and revocations: DCM 110136 "Security Roles Changed"; reader keys and one-time
  codes issued: DCM 110137 "User Security Attributes Changed"; a rejected one-time
  code: DCM 110114 "User Authentication", outcome 4.

``outcome``: 0 allowed; 4 refused for a plain reason (unknown or deleted document, space
not open, document awaiting its announcement consultation) or a rejected one-time code;
8 refused because the reader had no right (not authorised, blocked, profession matrix,
masked, a minor's secrecy, an emergency access refused): an attempt a regulator should
look at.

Verifiability: the Bundle's first entry is a ``Binary`` holding the complete, signed
JSON Lines export (``application/jsonl``), which ``client.trail_verify`` checks offline;
a ``Provenance`` names every AuditEvent as derived from it and carries the checkpoint
and the public key as extensions; each AuditEvent carries its leaf index and leaf hash.
The AuditEvents are a rendering of the Binary, by ``render_bundle`` alone: the verifier
renders the Binary again with this same function and requires the Bundle to be exactly
that (canonical JSON, byte for byte), so no AuditEvent can say what its entry does not.
The one input that is not in the export, a space's INS, is bound to the entry's space
id: ``space_of_patient(ins)`` must give it (``domain.space.Space.create_id``).

Pure (standard library and ``wire.merkle``): the server (``projections.trail_fhir``)
and the offline verifier import it alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from wire.merkle import leaf_hash as merkle_leaf_hash

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
REST = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SECURITY_ROLE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
RPPS = "urn:oid:1.2.250.1.71.4.2.1"
INS = "urn:oid:1.2.250.1.213.1.4.8"
BASE = "https://coffre.invalid/fhir"
IDENTIFIER_SYSTEMS = {
    "professional": RPPS,
    "patient": INS,
    "service": f"{BASE}/sid/service",
    "regulator": f"{BASE}/sid/regulator",
}
LEAF_EXTENSION = f"{BASE}/StructureDefinition/trail-leaf"
CHECKPOINT_EXTENSION = f"{BASE}/StructureDefinition/trail-checkpoint"
PUBLIC_KEY_EXTENSION = f"{BASE}/StructureDefinition/trail-public-key"
_NAMESPACE = uuid5(NAMESPACE_URL, f"{BASE}/trail")
#: ``domain.space.SPACE_NAMESPACE``, repeated here so that the verifier imports no
#: aggregate (tests/trail/test_trail_fhir.py checks that the two agree)
SPACE_NAMESPACE = uuid5(NAMESPACE_URL, "https://coffre.invalid/space")


def space_of_patient(patient_id: str) -> UUID:
    """The space id of an INS as ``Space.create_id`` derives it (INS already canonical)."""
    return uuid5(SPACE_NAMESPACE, patient_id)


#: the life of a space, as BALP RESTful operations on the patient's record
LIFE = {
    "Space.OpeningScheduled": "update",
    "Space.BirthDateRecorded": "update",
    "Space.Opposed": "update",
    "Space.Activated": "update",
    "Space.Opened": "update",
    "Space.Closed": "update",
    "Space.DeletionRequested": "update",
    "Space.Reopened": "update",
    "Space.Shredded": "delete",
}
#: refusal rules that are not a sign of a missing right
MINOR_RULES = {"unknown_document", "document_deleted", "space_not_open", "invisible_to_patient"}


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _urn(*parts: str) -> str:
    return f"urn:uuid:{uuid5(_NAMESPACE, '/'.join(parts))}"


def classify(entry: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]], str]:
    """(type, subtype, action) of an entry, per the module docstring."""
    name, details = entry["event"], entry.get("details", {})
    if details.get("mode") == "emergency" or "Emergency" in name:
        return (
            _coding(DCM, "110113", "Security Alert"),
            [_coding(DCM, "110127", "Emergency Override Started")],
            "R" if name.startswith("Access.") else "E",
        )
    if name in ("Access.Read", "Access.Refused"):
        return _coding(DCM, "110110", "Patient Record"), [_coding(REST, "read", "read")], "R"
    rest = _coding(EVENT_TYPE, "rest", "RESTful Operation")
    if name == "Space.Deposited":
        verb = "create" if details.get("version") == 1 else "update"
        return rest, [_coding(REST, verb, verb)], verb[0].upper()
    if name == "Space.Provisioned":
        return rest, [_coding(REST, "create", "create")], "C"
    if name == "Space.DocumentDeleted":
        return rest, [_coding(REST, "delete", "delete")], "D"
    if name in LIFE:
        verb = LIFE[name]
        return rest, [_coding(REST, verb, verb)], verb[0].upper()
    if name == "Space.CodeIssued":
        return _coding(DCM, "110137", "User Security Attributes Changed"), [], "C"
    if name == "Space.CodeRejected":
        return _coding(DCM, "110114", "User Authentication"), [], "E"
    if name in ("Space.Granted", "Space.Revoked"):
        return (
            _coding(DCM, "110136", "Security Roles Changed"),
            [],
            "C" if "Granted" in name else "D",
        )
    if name.startswith("Reader."):
        return _coding(DCM, "110137", "User Security Attributes Changed"), [], "C"
    return _coding(DCM, "110110", "Patient Record"), [], "E"


def outcome(entry: dict[str, Any]) -> str:
    """FHIR AuditEvent outcome: "0" allowed, "4" minor refusal, "8" refusal for no right."""
    if entry["event"] == "Space.CodeRejected":
        return "4"  # a wrong one-time code: a failed authentication
    if not entry["event"].endswith("Refused"):  # Access.Refused, EmergencyAccessRefused
        return "0"
    return "4" if entry.get("details", {}).get("rule") in MINOR_RULES else "8"


def _agent(entry: dict[str, Any]) -> dict[str, Any]:
    actor = entry.get("actor")
    if actor is None:
        return {"who": {"display": "Coffre"}, "requestor": False}
    role = actor["role"]
    human = role in ("patient", "professional")
    agent: dict[str, Any] = {
        "type": {"coding": [_coding(SECURITY_ROLE, "humanuser", "human user")]}
        if human
        else {"coding": [_coding(SECURITY_ROLE, "dataprocessor", "data processor")]},
        "who": {
            "identifier": {
                "system": IDENTIFIER_SYSTEMS.get(role, f"{BASE}/sid/{role}"),
                "value": actor["id"],
            },
        },
        "requestor": True,
    }
    if actor.get("name"):
        agent["who"]["display"] = actor["name"]
        agent["name"] = actor["name"]
    roles = [
        {"text": value} for value in (actor.get("profession"), actor.get("organisation")) if value
    ]
    if roles:
        agent["role"] = roles
    grant_id = entry.get("details", {}).get("grant_id")
    if grant_id:
        agent["policy"] = [f"urn:uuid:{grant_id}"]
    return agent


def _entities(entry: dict[str, Any], patient_id: str | None) -> list[dict[str, Any]]:
    details = entry.get("details", {})
    entities: list[dict[str, Any]] = []
    if patient_id is not None:
        entities.append(
            {
                "what": {"identifier": {"system": INS, "value": patient_id}},
                "type": _coding(ENTITY_TYPE, "1", "Person"),
                "role": _coding(OBJECT_ROLE, "1", "Patient"),
            }
        )
    if details.get("document_id"):
        document: dict[str, Any] = {
            "what": {
                "identifier": {
                    "system": "urn:ietf:rfc:3986",
                    "value": f"urn:uuid:{details['document_id']}",
                }
            },
            "type": _coding(ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "4", "Domain Resource"),
        }
        extra = [
            {"type": key, "valueString": str(details[key])}
            for key in ("version", "type", "mode")
            if details.get(key) is not None
        ]
        if extra:
            document["detail"] = extra
        entities.append(document)
    return entities


def audit_event(entry: dict[str, Any], leaf_hash: str, patient_id: str | None) -> dict[str, Any]:
    """One AuditEvent for one trail entry (``entry`` is the parsed canonical entry)."""
    kind, subtype, action = classify(entry)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"leaf-{entry['leaf_index']}",
        "extension": [
            {
                "url": LEAF_EXTENSION,
                "extension": [
                    {"url": "leafIndex", "valueString": str(entry["leaf_index"])},
                    {"url": "leafHash", "valueString": leaf_hash},
                    {"url": "event", "valueString": entry["event"]},
                ],
            }
        ],
        "type": kind,
        "action": action,
        "recorded": entry["at"],
        "outcome": outcome(entry),
        "agent": [_agent(entry)],
        "source": {
            "site": "Coffre",
            "observer": {"display": "Coffre vault"},
            "type": [_coding(SOURCE_TYPE, "4", "Application Server")],
        },
    }
    if subtype:
        event["subtype"] = subtype
    if event["outcome"] != "0":
        details = entry.get("details", {})
        event["outcomeDesc"] = f"refused: {details.get('rule') or details.get('reason') or '-'}"
    entities = _entities(entry, patient_id)
    if entities:
        event["entity"] = entities
    return event


def render_bundle(
    export: str, patients: Callable[[str], str | None], timestamp: str
) -> dict[str, Any]:
    """Build the Bundle from a JSON Lines export's text.

    ``patients(space_id)`` returns the INS of a space (for the Patient entity) or None;
    ``timestamp`` is the Bundle's time (RFC 3339), the only part not derived from the
    export. ``client.trail_verify`` calls this very function to check a Bundle.
    """
    # split on LF only: str.splitlines would also cut at U+2028 and the like, which an
    # entry's text may hold
    lines = export.removesuffix("\n").split("\n")
    header, entry_lines = json.loads(lines[0]), lines[1:-1]
    binary_url = _urn("export", hashlib.sha256(export.encode()).hexdigest())
    known: dict[str, str | None] = {}
    audit_entries: list[dict[str, Any]] = []
    for line in entry_lines:
        text = json.loads(line)["entry"]
        entry = json.loads(text)
        leaf_hash = merkle_leaf_hash(text.encode("utf-8")).hex()
        space = entry.get("space_id")
        if space is not None and space not in known:
            known[space] = entry.get("details", {}).get("patient_id") or patients(space)
        resource = audit_event(entry, leaf_hash, known.get(space) if space else None)
        audit_entries.append({"fullUrl": _urn("leaf", leaf_hash), "resource": resource})
    checkpoint = header["checkpoint"]
    provenance = {
        "resourceType": "Provenance",
        "id": "trail-export",
        "extension": [
            {
                "url": CHECKPOINT_EXTENSION,
                "extension": [
                    {"url": key, "valueString": str(checkpoint[key])}
                    for key in ("origin", "size", "root", "time", "key_id", "signature")
                ],
            },
            {"url": PUBLIC_KEY_EXTENSION, "valueBase64Binary": header["public_key"]},
        ],
        "target": [{"reference": e["fullUrl"]} for e in audit_entries]
        or [{"reference": binary_url}],
        "recorded": timestamp,
        "agent": [{"who": {"display": f"Coffre regulator trail, key {checkpoint['key_id']}"}}],
        "entity": [{"role": "source", "what": {"reference": binary_url}}],
    }
    binary = {
        "resourceType": "Binary",
        "id": "trail-export",
        "contentType": "application/jsonl",
        "data": base64.b64encode(export.encode("utf-8")).decode("ascii"),
    }
    return {
        "resourceType": "Bundle",
        "id": f"trail-{checkpoint['size']}-{binary_url[-12:]}",
        "type": "collection",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": binary_url, "resource": binary},
            {"fullUrl": _urn("provenance", binary_url), "resource": provenance},
            *audit_entries,
        ],
    }
