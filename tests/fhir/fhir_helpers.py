"""Helpers of the FHIR tests: ITI-65 bundles encrypted for real, validation with
``fhir.resources`` (R4B models, as the trail's tests: R4's do not load under pydantic 2)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from urllib.parse import quote

from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.list import List
from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.api.api_helpers import Caller
from wire.envelope import DataKey, encrypt, seal
from wire.mhd import ENVELOPE_MEDIA_TYPE, FHIR_JSON, SEALED_KEY_EXTENSION, VISIBILITY
from wire.trail_fhir import INS

FEED_SYSTEM = "urn:oid:1.2.250.1.213.1.1.9"

_MODELS: dict[str, Any] = {
    "AuditEvent": AuditEvent,
    "Binary": Binary,
    "Bundle": Bundle,
    "Consent": Consent,
    "CapabilityStatement": CapabilityStatement,
    "DocumentReference": DocumentReference,
    "List": List,
    "OperationOutcome": OperationOutcome,
}


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource``, once ``fhir.resources`` has validated it (and every entry's)."""
    _MODELS[resource["resourceType"]].model_validate(resource)
    for entry in resource.get("entry", ()):
        if "resource" in entry:
            valid(entry["resource"])
    return resource


def patient_query(patient_id: str) -> str:
    """The ``patient.identifier`` search parameter of a patient."""
    return "patient.identifier=" + quote(f"{INS}|{patient_id}")


def provide_bundle(
    depositor: Caller,
    patient_id: str,
    plaintext: bytes = b"Hemoglobine 13.2 g/dL",
    *,
    source: str = "doc-1",
    title: str = "Bilan sanguin",
    loinc: str = "11502-2",
    labels: tuple[str, ...] = (),
    replaces: str | None = None,
    data_key: DataKey | None = None,
) -> dict[str, Any]:
    """An ITI-65 transaction: a SubmissionSet List, a DocumentReference and its Binary
    (the envelope, encrypted here to the space key, as a feeding system does)."""
    space = depositor.get(f"/v1/spaces/{patient_id}/key")
    assert space.status_code == 200, space.text
    key = data_key or DataKey.generate()
    envelope = b"".join(encrypt(iter([plaintext]), key, chunk_size=1024))
    sealed = seal(key, base64.b64decode(space.json()["public_key"]))
    reference: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": FEED_SYSTEM, "value": source},
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"identifier": {"system": INS, "value": patient_id}},
        "description": title,
        "content": [{"attachment": {"contentType": ENVELOPE_MEDIA_TYPE, "url": "urn:uuid:b1"}}],
        "context": {"period": {"start": date(2026, 10, 30).isoformat()}},
        "extension": [
            {"url": SEALED_KEY_EXTENSION, "valueBase64Binary": base64.b64encode(sealed).decode()}
        ],
    }
    if labels:
        reference["securityLabel"] = [
            {"coding": [{"system": VISIBILITY, "code": code}]} for code in labels
        ]
    if replaces:
        reference["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{replaces}"}}
        ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:s1",
                "resource": {
                    "resourceType": "List",
                    "status": "current",
                    "mode": "working",
                    "code": {"coding": [{"code": "submissionset"}]},
                },
                "request": {"method": "POST", "url": "List"},
            },
            {
                "fullUrl": "urn:uuid:d1",
                "resource": reference,
                "request": {"method": "POST", "url": "DocumentReference"},
            },
            {
                "fullUrl": "urn:uuid:b1",
                "resource": {
                    "resourceType": "Binary",
                    "contentType": ENVELOPE_MEDIA_TYPE,
                    "data": base64.b64encode(envelope).decode(),
                },
                "request": {"method": "POST", "url": "Binary"},
            },
        ],
    }


def provide(depositor: Caller, bundle: dict[str, Any]) -> dict[str, Any]:
    """Send an ITI-65 bundle (validated first, as what Coffre accepts); the validated
    transaction-response."""
    valid(bundle)
    answer = depositor.post("/fhir", json=bundle, headers={"Content-Type": FHIR_JSON})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    return valid(answer.json())


def document_id_of(response: dict[str, Any]) -> str:
    """The document an ITI-65 response's DocumentReference entry names."""
    location = response["entry"][1]["response"]["location"]
    return str(location.split("/")[1])
