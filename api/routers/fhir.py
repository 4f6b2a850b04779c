"""The FHIR R4 facade (IHE MHD): the same use cases as the JSON routes, translated.

* ``GET /fhir/metadata``: the CapabilityStatement (what is below, nothing more,
  ``api.fhir_search``);
* ITI-67 ``GET /fhir/DocumentReference``: the listing of ``GET .../documents``
  (``vault.documents``: only what the caller may list), filtered and paged here;
* ``GET /fhir/DocumentReference/{id}`` (FHIR read): one entry of that same listing, or
  404 for anything the search would not show this caller;
* ITI-68 ``GET /fhir/Binary/{document_id}``: the read of ``POST .../reads``
  (``vault.read``: recorded before the key is resealed), then the envelope;
* ITI-65 ``POST /fhir``: a transaction of DocumentReference + Binary, each pair the
  upload and deposit of ``POST .../uploads`` + ``POST .../documents``, idempotent on
  ``masterIdentifier`` (the feeding source identifier);
* ``GET /fhir/Consent``: ``vault.access_rules`` (``GET .../access-rules``), read-only
  (``api.fhir_consent``);
* ITI-81 ``GET /fhir/AuditEvent``: the patient's own access log (``log_page``, as
  ``GET .../access-log``), or the regulator's trail of the space (``api.fhir_audit``).

Paging never reveals a hidden document: the listing holds only what the caller may
list, ``total`` counts it, and the cursor is a position in it (never in the space).
Errors are OperationOutcomes (``api.problems``). Shapes in ``api.fhir_models``,
``api.fhir_transaction`` (ITI-65), ``api.fhir_consent`` and ``api.fhir_audit``.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from api import fhir_audit as audit
from api.deps import CurrentActor, DepositorActor, FreshViewsDep, VaultDep, require_roles
from api.fhir_audit import window_of
from api.fhir_consent import consents_of, names
from api.fhir_models import (
    FhirResponse,
    PatientIdentifier,
    base_url,
    document_reference,
    offset_of,
    page_url,
    patient_id_of,
    retrieve_url,
    searchset,
)
from api.fhir_search import capability_statement, date_filters, status_filter, type_filter
from api.fhir_transaction import labels_update, parse_transaction, transaction_response
from api.models import ID_MAX, Uuid
from api.routers.access_log import log_page
from api.routers.common import Router, problem_responses
from domain.values import Actor, parse_patient_id
from projections.access_log import LogFilter
from projections.trail_export import TrailQuery
from vault.service import Vault
from wire.errors import InvalidInput
from wire.mhd import (
    ACCESS_ID_HEADER,
    ENVELOPE_MEDIA_TYPE,
    READER_KEY_HEADER,
    SEALED_KEY_HEADER,
    SHA256_HEADER,
)
from wire.trail_fhir import RPPS
from wire.values import Role

router = Router(prefix="/fhir", tags=["fhir"], responses=problem_responses(401, 403, 404, 422))

#: ``_count`` when the search names none, and the most one page holds
DEFAULT_COUNT = 20
MAX_COUNT = 100
#: the search parameters ITI-67 supports here; any other is refused, not ignored
SEARCH_PARAMETERS = frozenset({"patient.identifier", "status", "type", "date", "_count", "_cursor"})
#: the same for ITI-81, whose pages are longer
DEFAULT_AUDIT_COUNT = 50
MAX_AUDIT_COUNT = 200
AUDIT_PARAMETERS = frozenset({"patient", "date", "_count", "_cursor"})
#: the one parameter of a DocumentReference read: the space it is looked for in
READ_PARAMETERS = frozenset({"patient.identifier"})

HolderActor = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REPRESENTATIVE))]
PatientOrRegulator = Annotated[Actor, Depends(require_roles(Role.PATIENT, Role.REGULATOR))]

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
        for predicate in (status_filter(status), type_filter(type), *date_filters(date))
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
    at = {"self": offset}
    if offset + count < len(matches) and count > 0:
        at["next"] = offset + count
    if offset > 0:
        at["previous"] = max(0, offset - count)
    links = [
        {"relation": r, "url": page_url(base, "DocumentReference", query, n)} for r, n in at.items()
    ]
    resources = [
        document_reference(document, patient_id, retrieve_url(base, patient, document))
        for document in page
    ]
    return FhirResponse(searchset(resources, len(matches), links, base))


@router.get(
    "/DocumentReference/{document_id}",
    name="read_document_reference",
    response_class=FhirResponse,
)
def read_document_reference(
    request: Request,
    document_id: Annotated[Uuid, Path(description="the document's id")],
    vault: VaultDep,
    actor: CurrentActor,
    patient: PatientIdentifier,
) -> FhirResponse:
    """FHIR read of a DocumentReference: exactly the entry ITI-67 shows this caller
    (``vault.document``, the same rules), else the 404 of an id that never existed.
    Records nothing, as the search; the space is named by ``patient.identifier``."""
    resource, headers = _reference(request, vault, actor, patient, document_id)
    return FhirResponse(resource, headers=headers)


@router.put(
    "/DocumentReference/{document_id}",
    name="update_document_reference",
    response_class=FhirResponse,
    responses=problem_responses(409),
)
def update_document_reference(
    request: Request,
    document_id: Annotated[Uuid, Path(description="the document's id")],
    body: Annotated[
        dict[str, Any],
        Body(description="the DocumentReference as read, with the securityLabel wanted"),
    ],
    vault: VaultDep,
    actor: CurrentActor,
    patient: PatientIdentifier,
) -> FhirResponse:
    """FHIR update of a DocumentReference's ``securityLabel``: its confidentiality codes
    change through the JSON routes' use cases (``vault.change_codes``), all or nothing,
    by the same rules (409 for a change no command makes). Any other element must be as
    read. Answers the resource as it now is."""
    shown, _ = _reference(request, vault, actor, patient, document_id)
    wanted = labels_update(body, str(document_id), shown)
    vault.change_codes(patient_id_of(patient), document_id, actor, wanted)
    # after the change, as the caller may now see it (a mask hides nothing from them)
    resource, headers = _reference(request, vault, actor, patient, document_id)
    return FhirResponse(resource, headers=headers)


def _reference(
    request: Request, vault: Vault, actor: Actor, patient: str, document_id: UUID
) -> tuple[dict[str, Any], dict[str, str]]:
    # the read's resource and its ETag header: one entry of the caller's listing
    unknown = set(request.query_params) - READ_PARAMETERS
    if unknown:
        raise InvalidInput(f"unsupported parameter {sorted(unknown)[0]}", field="query")
    patient_id = patient_id_of(patient)
    found = vault.document(patient_id, document_id, actor)
    url = retrieve_url(base_url(request), patient, found)
    return document_reference(found, patient_id, url), {"ETag": f'W/"{found.version}"'}


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


# -- Consent (read-only) -----------------------------------------------------------


@router.get("/Consent", name="find_consents", response_class=FhirResponse)
def find_consents(
    request: Request,
    vault: VaultDep,
    actor: HolderActor,
    patient: PatientIdentifier,
    professional: Annotated[
        str | None,
        Query(alias="actor", max_length=200, description=f"a professional: ``{RPPS}|<RPPS>``"),
    ] = None,
) -> FhirResponse:
    """Every grant, care-team membership, block and the emergency setting of a space, as
    Consents (the holder only, as ``GET .../access-rules``)."""
    patient_id = patient_id_of(patient)
    rules = vault.access_rules(patient_id, actor)
    consents = consents_of(rules, patient_id)
    if professional is not None:
        wanted = professional.rpartition("|")[2]
        consents = [c for c in consents if names(c, wanted)]
    return FhirResponse(searchset(consents, len(consents), [], base_url(request)))


# -- ITI-81 ------------------------------------------------------------------------


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
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_AUDIT_COUNT)] = DEFAULT_AUDIT_COUNT,
    cursor: Annotated[str | None, Query(alias="_cursor", max_length=40)] = None,
) -> FhirResponse:
    """ITI-81: a patient's own access log, or (for the regulator) the trail of their
    space, as a searchset of AuditEvents, newest first for the patient."""
    unknown = set(request.query_params) - AUDIT_PARAMETERS
    if unknown:
        raise InvalidInput(f"unsupported search parameter {sorted(unknown)[0]}", field="query")
    patient_id = patient_id_of(patient) if "|" in patient else parse_patient_id(patient)
    since, until = window_of(date or [])
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
        page = [audit.from_log(entry, patient_id) for entry in log.entries]
        following, total = log.next_cursor, None
    base = base_url(request)
    params: dict[str, Any] = {"patient": patient, "_count": count}
    if date:
        params["date"] = date
    links = [{"relation": "self", "url": page_url(base, "AuditEvent", params)}]
    if following is not None:
        links.append(
            {
                "relation": "next",
                "url": page_url(base, "AuditEvent", params, following),
            }
        )
    bundle = searchset([audit.profiled(event) for event in page], total or 0, links, base)
    if total is None:
        del bundle["total"]  # the log is paged by its cursor: it is not counted here
    return FhirResponse(bundle)
