"""FHIR R4 shapes the facade renders (``api.routers.fhir`` and its siblings), and the
pieces its searches share (``patient.identifier``, dates, cursors, searchsets).

Translation only: a listed document (``wire.dto.DocumentSummary``) becomes a
``DocumentReference``. Codes come from the one table in ``domain.document_codes``;
identifiers from ``wire.trail_fhir`` (INS, RPPS), which the regulator's AuditEvents
already use. What an ITI-65 Bundle may hold is ``api.fhir_transaction``'s.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from domain.document_codes import (
    CONFIDENTIALITY_CODES,
    Code,
    codes_of,
)
from domain.values import parse_patient_id
from wire.dto import DocumentSummary
from wire.errors import InvalidInput
from wire.mhd import ENVELOPE_MEDIA_TYPE, FHIR_JSON
from wire.trail_fhir import INS
from wire.values import DocumentType

FHIR_VERSION = "4.0.1"
#: IHE MHD profiles the shapes follow
MHD_MINIMAL_DOCUMENT_REFERENCE = (
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.DocumentReference"
)


#: the patient searched for, as ITI-67 names them (``patient.identifier=<INS system>|<INS>``)
PatientIdentifier = Annotated[
    str,
    Query(
        alias="patient.identifier",
        max_length=300,
        description=f"the patient's INS as ``{INS}|<INS>``",
    ),
]


class FhirResponse(JSONResponse):
    """A FHIR resource (``application/fhir+json``)."""

    media_type = FHIR_JSON


def base_url(request: Request) -> str:
    """The facade's base URL: FHIR's ``fullUrl`` and links are absolute."""
    return str(request.url_for("capabilities")).removesuffix("/metadata")


def patient_id_of(identifier: str) -> str:
    """The INS a ``<INS system>|<INS>`` token names (``InvalidInput`` otherwise)."""
    system, bar, value = identifier.partition("|")
    if not bar or system != INS:
        raise InvalidInput(f"patient.identifier is {INS}|<INS>", field="patient.identifier")
    return parse_patient_id(value)


def searchset(
    entries: list[dict[str, Any]], total: int, links: list[dict[str, str]], base: str
) -> dict[str, Any]:
    """A searchset Bundle of ``entries`` (resources), ``total`` of them matching.

    FHIR JSON has no empty arrays: a page without entries (or links) has no ``entry``
    (or ``link``) at all.
    """
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total}
    if links:
        bundle["link"] = links
    if entries:
        bundle["entry"] = [
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in entries
        ]
    return bundle


def instants_of(text: str) -> tuple[dt.datetime, dt.datetime]:
    """The range of instants ``[low, high)`` a FHIR date or dateTime of this precision
    covers (``InvalidInput`` for anything else)."""
    try:
        if len(text) == 10:
            day = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
            return day, day + dt.timedelta(days=1)
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("date is [eq|ge|le|gt|lt]YYYY-MM-DD[Thh:mm:ssZ]", field="date") from None
    if at.tzinfo is None:
        raise InvalidInput("a dateTime in date needs its offset", field="date")
    return at, at + dt.timedelta(seconds=1)


def offset_of(cursor: str | None) -> int:
    """The position an opaque ``_cursor`` names (in the caller's own matches)."""
    if cursor is None:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0:
        raise InvalidInput("_cursor is not one this server made", field="_cursor")
    return offset


def cursor_of(offset: int) -> str:
    """The opaque ``_cursor`` of a position."""
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def coding(code: Code) -> dict[str, str]:
    """A FHIR Coding."""
    return {"system": code.system, "code": code.code, "display": code.display}


def instant(at: dt.datetime) -> str:
    """A FHIR instant (UTC, seconds)."""
    return at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def security_labels(document: DocumentSummary) -> list[dict[str, Any]]:
    """The confidentiality codes set on a listed document, as ``securityLabel``."""
    return [
        {"coding": [coding(code)]}
        for field, code in CONFIDENTIALITY_CODES.items()
        if getattr(document, field)
    ]


def document_reference(
    document: DocumentSummary, patient_id: str, content_url: str
) -> dict[str, Any]:
    """A listed document as an IHE MHD DocumentReference (its current version).

    ``content_url`` is the ITI-68 retrieval of this document (``api.routers.fhir``).
    """
    codes = codes_of(DocumentType(document.type))
    author: dict[str, Any] = {"display": document.author_name}
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.document_id),
        "meta": {
            "versionId": str(document.version),
            "lastUpdated": instant(document.deposited_at),
            "profile": [MHD_MINIMAL_DOCUMENT_REFERENCE],
        },
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": document.document_id.urn}],
        "status": "current",
        "type": {"coding": [coding(codes.loinc)]},
        "subject": {"identifier": {"system": INS, "value": patient_id}},
        "date": instant(document.deposited_at),
        "author": [author],
        "description": document.title,
        "content": [
            {
                "attachment": {
                    "contentType": ENVELOPE_MEDIA_TYPE,
                    "url": content_url,
                    "size": document.size,
                    "title": document.title,
                }
            }
        ],
        "context": {"period": {"start": document.date.isoformat()}},
    }
    if codes.dmp_class is not None:
        resource["category"] = [{"coding": [coding(codes.dmp_class)]}]
    if document.author_organisation:
        resource["custodian"] = {"display": document.author_organisation}
    labels = security_labels(document)
    if labels:
        resource["securityLabel"] = labels
    return resource


def page_url(base: str, resource: str, params: dict[str, Any], cursor: int = 0) -> str:
    """A search's URL, at ``cursor`` (``_cursor``) when not 0: paging links are absolute."""
    at = {"_cursor": cursor_of(cursor)} if cursor else {}
    return f"{base}/{resource}?{urlencode({**params, **at}, doseq=True)}"


def retrieve_url(base: str, patient: str, document: DocumentSummary) -> str:
    """The ITI-68 URL of a document's envelope: its attachment's ``url``."""
    return page_url(base, f"Binary/{document.document_id}", {"patient.identifier": patient})
