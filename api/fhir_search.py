"""The search side of the FHIR facade (``api.routers.fhir``): the CapabilityStatement
that says what is implemented, and ITI-67's search parameters as predicates over the
documents a caller may list (they narrow the listing, never widen it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from api.fhir_models import FHIR_VERSION, instants_of
from domain.document_codes import type_of
from wire.dto import DocumentSummary
from wire.errors import InvalidInput
from wire.mhd import ENVELOPE_MEDIA_TYPE, FHIR_JSON

#: FHIR date search prefixes (``date=ge2025-01-01``)
_PREFIXES = ("eq", "ge", "le", "gt", "lt")


def capability_statement(base: str) -> dict[str, Any]:
    """What ``/fhir`` supports, and nothing else."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-03",
        "kind": "instance",
        "implementation": {"description": "Coffre FHIR facade (IHE MHD)", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "documentation": "IHE MHD transactions ITI-65 (transaction), ITI-67 "
                "(DocumentReference search, and read), ITI-68 (Binary read), and ITI-81 "
                "(AuditEvent search); SMART v2 scopes (patient/, user/, system/); errors "
                "are OperationOutcomes",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ]
                },
                "resource": [
                    _searchable(
                        "DocumentReference",
                        {
                            "patient.identifier": "token",
                            "status": "token",
                            "type": "token",
                            "date": "date",
                        },
                        "ITI-67; date: the deposit's instant. read: "
                        "DocumentReference/{id}?patient.identifier=… answers the entry the "
                        "search shows this caller, else 404. update: changes securityLabel "
                        "only (the confidentiality codes, through the JSON routes' use "
                        "cases); other elements must be as read",
                        read=True,
                        update=True,
                    ),
                    _searchable(
                        "Consent",
                        {"patient.identifier": "token", "actor": "token"},
                        "read-only: grants, care team, blocks, emergency setting; for the "
                        "patient and their representatives",
                    ),
                    _searchable(
                        "AuditEvent",
                        {"patient": "reference", "date": "date"},
                        "ITI-81: the patient's own access log, or for the regulator the "
                        "trail of a patient's space; IHE BALP shapes",
                    ),
                    {
                        "type": "Binary",
                        "interaction": [{"code": "read"}],
                        "documentation": f"the envelope ({ENVELOPE_MEDIA_TYPE}) of a "
                        "document, after a recorded read; header X-Coffre-Reader-Key",
                    },
                ],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }


def _searchable(
    kind: str,
    parameters: dict[str, str],
    documentation: str,
    *,
    read: bool = False,
    update: bool = False,
) -> dict[str, Any]:
    # a resource type searched with these parameters, read by id when ``read``,
    # updated when ``update``, nothing more
    search = [{"name": name, "type": type_} for name, type_ in parameters.items()]
    interactions = [{"code": "read"}] if read else []
    interactions += [{"code": "update"}] if update else []
    return {
        "type": kind,
        "interaction": [*interactions, {"code": "search-type"}],
        "documentation": documentation,
        "searchParam": search,
    }


Predicate = Callable[[DocumentSummary], bool]


def status_filter(status: str | None) -> Predicate | None:
    """``status``: every listed document is current (superseded versions and deleted
    documents are not listed at all), so ``current`` matches all, anything else none."""
    # every listed document is current: superseded versions and deleted documents
    # are not listed at all
    if status is None:
        return None
    current = "current" in status.split(",")
    return lambda document: current


def type_filter(types: str | None) -> Predicate | None:
    """``type``: LOINC codes (``[system|]code``, comma separated) of Coffre's types."""
    if types is None:
        return None
    wanted = set()
    for token in types.split(","):
        system, bar, code = token.rpartition("|")
        try:
            wanted.add(type_of(system if bar else None, code, field="type"))
        except InvalidInput:
            continue  # a code Coffre has no type for matches nothing
    return lambda document: document.type in wanted


def date_filters(values: Iterable[str] | None) -> list[Predicate]:
    """``date`` (repeatable): prefixed bounds on the deposit's instant."""
    return [_date_filter(value) for value in values or ()]


def _date_filter(value: str) -> Predicate:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    low, high = instants_of(text)
    tests: dict[str, Callable[[dt.datetime], bool]] = {
        "eq": lambda at: low <= at < high,
        "ge": lambda at: at >= low,
        "gt": lambda at: at >= high,
        "le": lambda at: at < high,
        "lt": lambda at: at < low,
    }
    test = tests[prefix]
    return lambda document: test(document.deposited_at)
