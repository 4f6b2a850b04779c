"""What an IHE MHD ITI-65 Provide Document Bundle may hold (``api.routers.fhir``), read
into the very arguments of the JSON deposit (``vault.upload`` then ``vault.deposit``).

Requests are read leniently (a FHIR resource carries many elements Coffre has no use
for: they are ignored), but every element Coffre uses is checked, and a bad one is
``InvalidInput`` naming it (``field``), which ``api.problems`` answers as an
OperationOutcome. Every entry is read before any deposit is made.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.models import ID_MAX, KEY_B64_MAX, TEXT_MAX
from domain.confidentiality import Confidentiality
from domain.document_codes import confidentiality_field, type_of
from wire.errors import InvalidInput
from wire.mhd import ENVELOPE_MEDIA_TYPE, SEALED_KEY_EXTENSION
from wire.trail_fhir import INS
from wire.values import DocumentMetadata, DocumentType, SourceId

M = TypeVar("M", bound=BaseModel)

#: at most this many entries in one ITI-65 transaction (each a deposit)
MAX_ENTRIES = 100


# -- ITI-65: what a Provide Document Bundle may hold --------------------------------


class _In(BaseModel):
    # FHIR resources carry many elements Coffre does not use: ignored, not refused
    model_config = ConfigDict(extra="ignore")


class CodingIn(_In):
    """A Coding (only system and code are read)."""

    system: str | None = Field(None, max_length=256)
    code: str = Field(max_length=ID_MAX)


class ConceptIn(_In):
    """A CodeableConcept."""

    coding: list[CodingIn] = Field(default_factory=list, max_length=10)


class IdentifierIn(_In):
    """An Identifier."""

    system: str = Field(max_length=256)
    value: str = Field(max_length=256)


class ReferenceIn(_In):
    """A Reference, by literal reference or by identifier."""

    reference: str | None = Field(None, max_length=256)
    identifier: IdentifierIn | None = None


class AttachmentIn(_In):
    """The attachment of an ITI-65 DocumentReference: points at its Binary entry."""

    contentType: str = Field(max_length=ID_MAX)
    url: str = Field(max_length=256)


class ContentIn(_In):
    """One content element."""

    attachment: AttachmentIn


class RelatesToIn(_In):
    """A relation to another document (``replaces`` makes a new version of it)."""

    code: str = Field(max_length=ID_MAX)
    target: ReferenceIn


class PeriodIn(_In):
    """A Period (the document's own date is its start)."""

    start: str = Field(max_length=40)


class ContextIn(_In):
    """The clinical context (only its period is read)."""

    period: PeriodIn


class ExtensionIn(_In):
    """An extension (only Coffre's sealed key is read)."""

    url: str = Field(max_length=256)
    valueBase64Binary: str | None = Field(None, max_length=KEY_B64_MAX)


class DocumentReferenceIn(_In):
    """An ITI-65 DocumentReference: the metadata of one deposit."""

    resourceType: Literal["DocumentReference"]
    masterIdentifier: IdentifierIn
    status: Literal["current"]
    type: ConceptIn
    subject: ReferenceIn
    description: str = Field(max_length=TEXT_MAX)
    securityLabel: list[ConceptIn] = Field(default_factory=list, max_length=3)
    relatesTo: list[RelatesToIn] = Field(default_factory=list, max_length=1)
    content: list[ContentIn] = Field(min_length=1, max_length=1)
    context: ContextIn
    extension: list[ExtensionIn] = Field(default_factory=list, max_length=10)


class BinaryIn(_In):
    """An ITI-65 Binary: the document's envelope, base64."""

    resourceType: Literal["Binary"]
    contentType: str = Field(max_length=ID_MAX)
    data: str


class EntryRequestIn(_In):
    """An entry's request (``POST DocumentReference``...)."""

    method: Literal["POST"]
    url: str = Field(max_length=64)


class EntryIn(_In):
    """A transaction entry."""

    fullUrl: str | None = Field(None, max_length=256)
    resource: dict[str, Any]
    request: EntryRequestIn


class TransactionIn(_In):
    """An ITI-65 Provide Document Bundle (a transaction)."""

    resourceType: Literal["Bundle"]
    type: Literal["transaction"]
    entry: list[EntryIn] = Field(min_length=1, max_length=MAX_ENTRIES)


class DepositIn(BaseModel):
    """One deposit an ITI-65 transaction asks for, as the JSON deposit takes it."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    entry: int
    patient_id: str
    envelope: bytes
    metadata: DocumentMetadata
    sealed_key: str
    replaces: UUID | None
    confidentiality: Confidentiality
    source: SourceId


def parse_transaction(body: dict[str, Any]) -> tuple[TransactionIn, list[DepositIn]]:
    """The deposits of an ITI-65 transaction, every one checked before any is made.

    Entries are DocumentReferences, each with its Binary (its attachment's ``url`` is
    the Binary entry's ``fullUrl``), and optionally a List (the SubmissionSet, read
    for nothing).
    """
    transaction = _validated(TransactionIn, body, "body")
    binaries: dict[str, BinaryIn] = {}
    references: list[tuple[int, DocumentReferenceIn]] = []
    for number, entry in enumerate(transaction.entry):
        kind = entry.resource.get("resourceType")
        where = f"entry[{number}].resource"
        if kind == "Binary":
            if not entry.fullUrl:
                raise InvalidInput("a Binary entry needs a fullUrl", field=f"entry[{number}]")
            binaries[entry.fullUrl] = _validated(BinaryIn, entry.resource, where)
        elif kind == "DocumentReference":
            references.append((number, _validated(DocumentReferenceIn, entry.resource, where)))
        elif kind != "List":
            raise InvalidInput(
                "entries are DocumentReference, Binary or List", field=f"{where}.resourceType"
            )
    if not references:
        raise InvalidInput("the transaction holds no DocumentReference", field="entry")
    deposits = [_deposit(number, found, binaries) for number, found in references]
    return transaction, deposits


def _validated(model: type[M], data: object, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        field = f"{where}.{place}" if place else where
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None


def _deposit(number: int, found: DocumentReferenceIn, binaries: dict[str, BinaryIn]) -> DepositIn:
    where = f"entry[{number}].resource"
    attachment = found.content[0].attachment
    binary = binaries.get(attachment.url)
    if binary is None:
        raise InvalidInput(
            "content.attachment.url must be the fullUrl of a Binary entry",
            field=f"{where}.content[0].attachment.url",
        )
    for media_type, field in (
        (attachment.contentType, f"{where}.content[0].attachment.contentType"),
        (binary.contentType, "Binary.contentType"),
    ):
        if media_type != ENVELOPE_MEDIA_TYPE:
            raise InvalidInput(f"the content must be {ENVELOPE_MEDIA_TYPE}", field=field)
    type_ = _type(found.type, f"{where}.type")
    return DepositIn(
        entry=number,
        patient_id=_patient(found.subject, f"{where}.subject"),
        envelope=_base64(binary.data, "Binary.data"),
        metadata=DocumentMetadata(type_, found.description, _date(found.context.period.start)),
        sealed_key=_sealed_key(found.extension, f"{where}.extension"),
        replaces=_replaces(found.relatesTo, f"{where}.relatesTo"),
        confidentiality=_confidentiality(found.securityLabel, f"{where}.securityLabel"),
        source=SourceId(found.masterIdentifier.system, found.masterIdentifier.value),
    )


def _patient(subject: ReferenceIn, field: str) -> str:
    if subject.identifier is None or subject.identifier.system != INS:
        raise InvalidInput(f"the subject is named by its INS ({INS})", field=field)
    return subject.identifier.value


def _type(concept: ConceptIn, field: str) -> DocumentType:
    for one in concept.coding:
        return type_of(one.system, one.code, field=field)
    raise InvalidInput("a LOINC type code is required", field=field)


def _date(start: str) -> dt.date:
    try:
        return dt.date.fromisoformat(start[:10])
    except ValueError:
        raise InvalidInput("context.period.start must be a date", field="context") from None


def _base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{field} must be base64", field=field) from None


def _sealed_key(extensions: list[ExtensionIn], field: str) -> str:
    for extension in extensions:
        if extension.url == SEALED_KEY_EXTENSION and extension.valueBase64Binary:
            return extension.valueBase64Binary
    raise InvalidInput(f"the sealed data key ({SEALED_KEY_EXTENSION}) is required", field=field)


def _replaces(relations: list[RelatesToIn], field: str) -> UUID | None:
    for relation in relations:
        reference = relation.target.reference or ""
        kind, _, document_id = reference.rpartition("/")
        if relation.code != "replaces" or not kind.endswith("DocumentReference"):
            raise InvalidInput("only relatesTo replaces DocumentReference/<id>", field=field)
        try:
            return UUID(document_id)
        except ValueError:
            raise InvalidInput("relatesTo names no Coffre document", field=field) from None
    return None


def _confidentiality(labels: list[ConceptIn], field: str) -> Confidentiality:
    fields = {
        confidentiality_field(one.system, one.code, field=field)
        for label in labels
        for one in label.coding
    }
    return Confidentiality(**dict.fromkeys(fields, True))


def transaction_response(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """An ITI-65 answer: a ``transaction-response`` Bundle, one entry per request entry."""
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


# -- the update of a DocumentReference's securityLabel ------------------------------


class LabelsUpdateIn(_In):
    """A FHIR update (PUT) of a DocumentReference, as far as Coffre reads it."""

    resourceType: Literal["DocumentReference"]
    id: str = Field(max_length=ID_MAX)
    securityLabel: list[ConceptIn] = Field(default_factory=list, max_length=3)


#: elements an update may carry that are the server's to set: not compared
_SERVER_SET = frozenset({"resourceType", "id", "meta", "text", "securityLabel"})


def labels_update(body: dict[str, Any], document_id: str, shown: dict[str, Any]) -> Confidentiality:
    """The confidentiality codes a FHIR update of a DocumentReference asks for.

    Only ``securityLabel`` changes this way: every other element the body carries must
    be the one Coffre shows (``shown``, the caller's read of it), since new content or
    metadata is a new version (ITI-65 with ``relatesTo.replaces``). The body's ``id``
    must be the URL's (FHIR's update rule).
    """
    update = _validated(LabelsUpdateIn, body, "DocumentReference")
    if update.id != document_id:
        raise InvalidInput("the resource's id must be the one in the URL", field="id")
    for element in sorted(set(body) - _SERVER_SET):
        if body[element] != shown.get(element):
            raise InvalidInput(
                f"only securityLabel can be changed by an update; {element} differs "
                "(a new version is an ITI-65 transaction with relatesTo.replaces)",
                field=element,
            )
    return _confidentiality(update.securityLabel, "securityLabel")
