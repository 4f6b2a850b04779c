"""The FHIR R4 facade (IHE MHD): the same use cases as the JSON routes, translated.

* ``GET /fhir/metadata``: the CapabilityStatement (what is below, nothing more);
* ITI-67 ``GET /fhir/DocumentReference``: the listing of ``GET .../documents``
  (``vault.documents``: only what the caller may list), filtered and paged here;
* ITI-68 ``GET /fhir/Binary/{document_id}``: the read of ``POST .../reads``
  (``vault.read``: recorded before the key is resealed), then the envelope;
* ITI-65 ``POST /fhir``: a transaction of DocumentReference + Binary, each pair the
  upload and deposit of ``POST .../uploads`` + ``POST .../documents``, idempotent on
  ``masterIdentifier`` (the feeding source identifier).

Paging never reveals a hidden document: the listing holds only what the caller may
list, ``total`` counts it, and the cursor is a position in it (never in the space).
Errors are OperationOutcomes (``api.problems``). Shapes in ``api.fhir_models``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from api.deps import CurrentActor, DepositorActor, VaultDep
from api.fhir_models import (
    FHIR_VERSION,
    FhirResponse,
    PatientIdentifier,
    base_url,
    cursor_of,
    document_reference,
    instants_of,
    offset_of,
    parse_transaction,
    patient_id_of,
    searchset,
    transaction_response,
)
from api.models import ID_MAX, Uuid
from api.routers.common import problem_responses
from domain.document_codes import type_of
from wire.dto import DocumentSummary
from wire.errors import InvalidInput
from wire.mhd import (
    ACCESS_ID_HEADER,
    ENVELOPE_MEDIA_TYPE,
    FHIR_JSON,
    READER_KEY_HEADER,
    SEALED_KEY_HEADER,
    SHA256_HEADER,
)

router = APIRouter(prefix="/fhir", tags=["fhir"], responses=problem_responses(401, 403, 404, 422))

#: ``_count`` when the search names none, and the most one page holds
DEFAULT_COUNT = 20
MAX_COUNT = 100
#: the search parameters ITI-67 supports here; any other is refused, not ignored
SEARCH_PARAMETERS = frozenset({"patient.identifier", "status", "type", "date", "_count", "_cursor"})
#: FHIR date search prefixes (``date=ge2025-01-01``)
_PREFIXES = ("eq", "ge", "le", "gt", "lt")

ReaderKey = Annotated[
    str,
    Header(
        alias=READER_KEY_HEADER,
        max_length=ID_MAX,
        description="the key id of the caller's approved device the data key is sealed to",
    ),
]


@router.get("/metadata", name="capabilities", response_class=FhirResponse)
def capabilities(request: Request) -> FhirResponse:
    """The CapabilityStatement: the interactions this facade implements, no others."""
    return FhirResponse(capability_statement(base_url(request)))


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
                "(DocumentReference search), ITI-68 (Binary read), and ITI-81 (AuditEvent "
                "search); SMART v2 scopes (patient/, user/, system/); errors are "
                "OperationOutcomes",
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
                        "ITI-67; date: the deposit's instant",
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


def _searchable(kind: str, parameters: dict[str, str], documentation: str) -> dict[str, Any]:
    # a resource type searched with these parameters (and ``date``), nothing more
    search = [{"name": name, "type": type_} for name, type_ in parameters.items()]
    return {
        "type": kind,
        "interaction": [{"code": "search-type"}],
        "documentation": documentation,
        "searchParam": [*search, {"name": "date", "type": "date"}] if kind != "Consent" else search,
    }


# -- ITI-67 ------------------------------------------------------------------------


@router.get("/DocumentReference", name="find_document_references", response_class=FhirResponse)
def find_document_references(
    request: Request,
    vault: VaultDep,
    actor: CurrentActor,
    patient: PatientIdentifier,
    status: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=1000)] = None,
    date: Annotated[list[str] | None, Query(max_length=4)] = None,
    count: Annotated[int, Query(alias="_count", ge=0, le=MAX_COUNT)] = DEFAULT_COUNT,
    cursor: Annotated[str | None, Query(alias="_cursor", max_length=40)] = None,
) -> FhirResponse:
    """ITI-67 Find Document References: a searchset of the documents the caller may list.

    ``total`` counts only those matching; ``next``/``previous`` links carry an opaque
    cursor into that same list.
    """
    unknown = set(request.query_params) - SEARCH_PARAMETERS
    if unknown:
        raise InvalidInput(f"unsupported search parameter {sorted(unknown)[0]}", field="query")
    patient_id = patient_id_of(patient)
    wanted = [
        predicate
        for predicate in (_status_filter(status), _type_filter(type), *_date_filters(date))
        if predicate is not None
    ]
    listed = vault.documents(patient_id, actor)
    matches = sorted(
        (document for document in listed if all(keep(document) for keep in wanted)),
        key=lambda document: (-document.deposited_at.timestamp(), str(document.document_id)),
    )
    offset = offset_of(cursor)
    page = matches[offset : offset + count]
    base = base_url(request)
    query: dict[str, Any] = {"patient.identifier": patient, "_count": count}
    query.update({k: v for k, v in (("status", status), ("type", type)) if v is not None})
    query.update({"date": date} if date else {})
    links = [{"relation": "self", "url": _url(base, query, offset)}]
    if offset + count < len(matches) and count > 0:
        links.append({"relation": "next", "url": _url(base, query, offset + count)})
    if offset > 0:
        links.append({"relation": "previous", "url": _url(base, query, max(0, offset - count))})
    resources = [
        document_reference(document, patient_id, _retrieve_url(base, patient, document))
        for document in page
    ]
    return FhirResponse(searchset(resources, len(matches), links, base))


Predicate = Callable[[DocumentSummary], bool]


def _status_filter(status: str | None) -> Predicate | None:
    # every listed document is current: superseded versions and deleted documents
    # are not listed at all
    if status is None:
        return None
    current = "current" in status.split(",")
    return lambda document: current


def _type_filter(types: str | None) -> Predicate | None:
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


def _date_filters(values: Iterable[str] | None) -> list[Predicate]:
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


def _url(base: str, query: dict[str, Any], offset: int) -> str:
    params = dict(query)
    if offset:
        params["_cursor"] = cursor_of(offset)
    return f"{base}/DocumentReference?{urlencode(params, doseq=True)}"


def _retrieve_url(base: str, patient: str, document: DocumentSummary) -> str:
    query = urlencode({"patient.identifier": patient})
    return f"{base}/Binary/{document.document_id}?{query}"


# -- ITI-68 ------------------------------------------------------------------------


@router.get(
    "/Binary/{document_id}",
    name="retrieve_document",
    response_class=StreamingResponse,
    responses={
        200: {"content": {ENVELOPE_MEDIA_TYPE: {}}, "description": "the envelope"},
        **problem_responses(400, 410, 503),
    },
)
def retrieve_document(
    document_id: Annotated[Uuid, Path(description="the document's id")],
    vault: VaultDep,
    actor: CurrentActor,
    patient: PatientIdentifier,
    reader_key: ReaderKey,
) -> StreamingResponse:
    """ITI-68 Retrieve Document: records the read exactly as ``POST .../reads`` does,
    then sends the document's envelope (ciphertext, never plaintext).

    The data key, resealed to the caller's device, comes in ``X-Coffre-Sealed-Key``
    (base64), the read's id in ``X-Coffre-Access-Id``, the envelope's SHA-256 in
    ``X-Coffre-Sha256``. A refused read is recorded and answers like an unknown document.
    """
    release = vault.read(patient_id_of(patient), document_id, actor, reader_key)
    size, chunks = vault.open_content(release.content_ticket)
    close = getattr(chunks, "close", None)
    return StreamingResponse(
        chunks,
        media_type=ENVELOPE_MEDIA_TYPE,
        headers={
            "Content-Length": str(size),
            SEALED_KEY_HEADER: release.sealed_key,
            ACCESS_ID_HEADER: str(release.access_id),
            SHA256_HEADER: release.sha256,
            "Cache-Control": "no-store",
        },
        background=BackgroundTask(close) if close is not None else None,
    )


# -- ITI-65 ------------------------------------------------------------------------


@router.post(
    "",
    name="provide_document_bundle",
    response_class=FhirResponse,
    responses=problem_responses(400, 409, 413, 503),
)
def provide_document_bundle(
    bundle: Annotated[dict[str, Any], Body(description="an ITI-65 transaction Bundle")],
    vault: VaultDep,
    actor: DepositorActor,
) -> FhirResponse:
    """ITI-65 Provide Document Bundle: each DocumentReference and its Binary are an
    upload and a deposit, exactly as on the JSON routes.

    Every entry is checked before anything is stored. ``masterIdentifier`` is the
    deposit's source identifier: the same bundle sent again records nothing and answers
    the same documents (``200 OK``); ``relatesTo.replaces`` makes a new version of the
    document it names. Deposits are recorded one by one: if one fails, those before it
    stay recorded, and sending the bundle again completes it.
    """
    transaction, deposits = parse_transaction(bundle)
    answers: dict[int, dict[str, Any]] = {}
    binaries: dict[str, dict[str, str]] = {}
    for one in deposits:
        receipt = vault.upload(one.patient_id, iter([one.envelope]), actor)
        deposit = vault.deposit(
            one.patient_id,
            receipt.ticket,
            one.metadata,
            one.sealed_key,
            actor,
            one.replaces,
            one.confidentiality,
            one.source,
        )
        answers[one.entry] = {
            "status": "201 Created" if deposit.created else "200 OK",
            "location": f"DocumentReference/{deposit.document_id}/_history/{deposit.version}",
        }
        url = transaction.entry[one.entry].resource["content"][0]["attachment"]["url"]
        # the Binary is the deposit's content: created with it, or found again with it
        binaries[url] = {**answers[one.entry], "location": f"Binary/{deposit.document_id}"}
    entries = []
    for number, entry in enumerate(transaction.entry):
        answer = answers.get(number) or binaries.get(entry.fullUrl or "")
        # a SubmissionSet is read for nothing: nothing of it is kept
        entries.append({"response": answer or {"status": "200 OK"}})
    return FhirResponse(transaction_response(entries))
