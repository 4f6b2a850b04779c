"""Request and response bodies, one model per direction.

Request models only cap sizes and shapes, so that an absurd body is refused cheaply;
the rules (title length, identifier checksums, known types) belong to the domain
values built from them, which raise ``InvalidInput`` themselves. Response models
never carry key material, except the reader-sealed ``sealed_key`` of a read release.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from domain.values import UUID_PATTERN
from projections.access_log import ACTIONS
from vault.reads import PAGE_DEFAULT, PAGE_MAX
from wire.values import (
    POSITION_MAX,
    SOURCE_SYSTEM_MAX,
    SOURCE_VALUE_MAX,
    DocumentMetadata,
    DocumentType,
    SourceId,
)

#: far above every domain limit: only there to bound what is parsed at all
ID_MAX = 64
TEXT_MAX = 1000
KEY_B64_MAX = 256
TICKET_MAX = 4096
LIST_MAX = 1000


def _one_spelling(value: object) -> object:
    # uuid.UUID (and pydantic) also take braces, "urn:uuid:" or no hyphens: an id is
    # matched whole, in one spelling.
    if isinstance(value, str) and not re.fullmatch(UUID_PATTERN, value):
        raise ValueError("must be a UUID written as 8-4-4-4-12 hexadecimal digits")
    return value


#: an identifier (document, grant, access): a UUID in its canonical spelling only
Uuid = Annotated[
    UUID,
    BeforeValidator(_one_spelling),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": f"^{UUID_PATTERN}$"}),
]


def _digits(value: object) -> object:
    # Lax integer parsing takes " 5", "5\n", "+5", "5_000" and "5.0" for 5: a position
    # is written one way, in digits.
    if isinstance(value, (bool, float)):
        raise ValueError("must be a whole number")
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,19}", value):
        raise ValueError("must be written in digits only")
    return value


# The bounds come before the validator in each ``Annotated``: so ordered, the OpenAPI
# document shows them as ``minimum`` and ``maximum``.
#: what an actor id filter may be: an RPPS number, an INS or a service id, and nothing
#: else (a NUL byte or a control character never reaches a query)
ACTOR_ID_PATTERN = r"^([0-9]{11}|[0-9]{5}(2[AB]|[0-9]{2})[0-9]{8}|[a-z0-9][a-z0-9.-]{2,63})$"
#: a position in the log (a notification's): an integer every store can keep, and no other
Position = Annotated[int, Field(ge=0, le=POSITION_MAX), BeforeValidator(_digits)]
#: a page cursor: entries strictly before this position
Cursor = Annotated[int, Field(ge=1, le=POSITION_MAX), BeforeValidator(_digits)]

#: what an access-log entry did (the filter of a log query)
LogAction = StrEnum("LogAction", {action: action for action in sorted(ACTIONS)})  # type: ignore[misc]


class RequestModel(BaseModel):
    """Unknown fields are refused: a misspelt field must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """Built from the vault's DTOs by attribute."""

    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    """An RFC 9457 problem; ``type`` is stable per error class."""

    type: str = Field(examples=["https://coffre.invalid/problems/unknown-space"])
    title: str
    status: int
    detail: str
    field: str | None = None
    instance: str | None = None
    document_id: UUID | None = Field(
        None, description="already-deposited: the document the deposit repeats or collides with"
    )
    scope: str | None = Field(
        None, description="insufficient-scope: the OAuth scope the operation needs"
    )


class Health(BaseModel):
    """The service answers."""

    status: Literal["ok"] = "ok"


# -- spaces and keys -----------------------------------------------------------------


class SpaceCreate(RequestModel):
    """Provision a patient's space."""

    patient_id: str = Field(max_length=ID_MAX, examples=["185077512345624"])


class SpaceKey(ResponseModel):
    """The public half of a space key, to which depositors seal data keys."""

    patient_id: str
    space_id: UUID
    key_id: str
    public_key: str = Field(description="base64 X25519 public key")


# -- uploads and deposits ------------------------------------------------------------


class Upload(BaseModel):
    """A stored ciphertext; ``receipt`` is what the deposit names."""

    blob: str
    size: int
    sha256: str
    receipt: str
    expires_at: dt.datetime


class SourceIdIn(RequestModel):
    """The depositor's identifier of the document (DMP uniqueId, FHIR masterIdentifier)."""

    system: str = Field(
        max_length=SOURCE_SYSTEM_MAX,
        description="a URI naming who issues the values",
        examples=["urn:oid:1.2.250.1.213.1.1.9"],
    )
    value: str = Field(max_length=SOURCE_VALUE_MAX, examples=["CR-2026-000123"])

    def source(self) -> SourceId:
        """The shared value (validated there)."""
        return SourceId(self.system, self.value)


class DepositCreate(RequestModel):
    """Record a deposit of an uploaded ciphertext (a new version with ``document_id``).

    With ``source_id``, a deposit is recorded once: the same identifier with the same
    ciphertext answers the document already deposited (200); with other content it is
    a 409 ``already-deposited`` naming the document, or a new version of it when
    ``document_id`` names that document.

    The ciphertext is named either by the ``receipt`` of a finished upload, or by the
    ``upload`` ticket of a direct upload whose parts were all sent, with the
    ``sha256`` that completing it takes: the deposit then completes it first (the same
    checks as ``.../direct-uploads/complete``), one request fewer.
    """

    receipt: str | None = Field(None, max_length=TICKET_MAX)
    upload: str | None = Field(
        None,
        max_length=TICKET_MAX,
        description="instead of ``receipt``: a direct upload's ticket, completed here",
    )
    sha256: str | None = Field(
        None,
        min_length=64,
        max_length=64,
        description="with ``upload``: hex SHA-256 of the whole ciphertext sent",
    )
    type: str = Field(
        max_length=ID_MAX, json_schema_extra={"enum": [t.value for t in DocumentType]}
    )
    title: str = Field(max_length=TEXT_MAX, description="at most 200 characters")
    date: dt.date
    sealed_key: str = Field(
        max_length=KEY_B64_MAX, description="data key sealed to the space key, base64"
    )
    document_id: Uuid | None = None
    masked: bool = Field(False, description="MASQUE_PS: hidden from professionals")
    invisible_to_patient: bool = Field(
        False, description="INVISIBLE_PATIENT: held for an announcement consultation"
    )
    invisible_to_representatives: bool = Field(
        False, description="INVISIBLE_REPRESENTANTS_LEGAUX: a minor's secret"
    )
    source_id: SourceIdIn | None = Field(
        None, description="the depositor's identifier of the document: retries record it once"
    )

    @model_validator(mode="after")
    def _one_ciphertext(self) -> DepositCreate:
        # exactly one way of naming the ciphertext; sha256 only with a direct upload
        if (self.receipt is None) == (self.upload is None):
            raise ValueError("give either receipt or upload (with sha256)")
        if (self.upload is None) != (self.sha256 is None):
            raise ValueError("sha256 goes with upload, and only with it")
        return self

    def metadata(self) -> DocumentMetadata:
        """The domain's metadata (validated there)."""
        return DocumentMetadata(type=self.type, title=self.title, date=self.date)  # type: ignore[arg-type]

    def source(self) -> SourceId | None:
        """The source identifier, if any (validated there)."""
        return None if self.source_id is None else self.source_id.source()


class DepositCreated(ResponseModel):
    """The recorded document and version."""

    document_id: UUID
    version: int


class DocumentPublic(ResponseModel):
    """A document as its reader may see it (no key material)."""

    document_id: UUID
    type: str
    title: str
    date: dt.date
    version: int
    author_name: str
    author_organisation: str | None
    size: int
    deposited_at: dt.datetime


class DocumentListed(DocumentPublic):
    """A listed document with its confidentiality codes as they stand now, so that its
    holder sees what is set and what may be changed.

    Only codes that let this caller see the document can be true here: a document a code
    hides from the caller (``invisible_to_patient`` from the patient and their
    representatives, ``invisible_to_representatives`` from the representatives) is not
    listed at all (``domain.reads.may_list``), so no one learns of a code kept from them.
    """

    masked: bool = Field(description="MASQUE_PS: hidden from professionals")
    invisible_to_patient: bool = Field(
        description="INVISIBLE_PATIENT: held for an announcement consultation"
    )
    invisible_to_representatives: bool = Field(
        description="INVISIBLE_REPRESENTANTS_LEGAUX: a minor's secret"
    )


class DocumentList(BaseModel):
    """A page of the documents the caller may read, in deposit order; pass
    ``next_cursor`` as ``after`` for the next page (null: this was the last)."""

    documents: list[DocumentListed]
    next_cursor: UUID | None = Field(description="the next page's after, or null")


class DocumentQuery(RequestModel):
    """Paging of a space's listing."""

    after: Uuid | None = Field(None, description="cursor: documents after this one")
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX, description="documents per page")


class ReadCreate(RequestModel):
    """Ask for a document's key, resealed to one of the caller's approved devices."""

    reader_key_id: str = Field(max_length=ID_MAX, description="an approved device's key id")


class ReleasePublic(BaseModel):
    """A recorded read: the reader-sealed data key and where to fetch the ciphertext."""

    access_id: UUID
    document: DocumentPublic
    sha256: str
    sealed_key: str = Field(description="data key sealed to the reader key, base64")
    content_url: str
    expires_at: dt.datetime
    content_alternates: list[str] = Field(
        default_factory=list,
        description="content_url at the blob store's other endpoints (presigned for each): "
        "GET them in order when content_url cannot be reached (no connection, 5xx)",
    )


# -- access log ----------------------------------------------------------------------


class LogQuery(RequestModel):
    """Paging and filters of an access-log query."""

    before: Cursor | None = Field(None, description="cursor: entries older than this")
    limit: int = Field(50, ge=1, le=200)
    actor_id: str | None = Field(None, max_length=ID_MAX, pattern=ACTOR_ID_PATTERN)
    document_id: Uuid | None = None
    action: LogAction | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class LogActor(BaseModel):
    """Who acted."""

    role: str
    id: str
    name: str
    profession: str | None
    organisation: str | None


class LogDevice(BaseModel):
    """The reader device an entry concerns: the one a read was made with, or one of the
    patient's devices being added, approved or revoked."""

    key_id: str
    name: str | None


class LogEntry(BaseModel):
    """One action on the space, as the patient is shown it."""

    entry_id: int
    at: dt.datetime
    actor: LogActor
    action: str
    document_id: UUID | None
    document_title: str | None
    document_type: str | None
    how: str
    outcome: Literal["allowed", "refused"]
    reason: str | None
    detail: dict[str, Any]
    device: LogDevice | None = None
    #: how the actor logged in, as their token said (acr, else amr: e-CPS, card, pwd)
    authentication: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LogEntry:
        """An entry from an ``access_log`` projection row."""
        actor = LogActor(
            role=row["actor_role"],
            id=row["actor_id"],
            name=row["actor_name"],
            profession=row.get("actor_profession"),
            organisation=row.get("actor_organisation"),
        )
        device = row.get("device_key_id")
        named = LogDevice(key_id=device, name=row.get("device_name")) if device else None
        fields = {
            name: row.get(name)
            for name in cls.model_fields
            if name not in ("actor", "device", "authentication")
        }
        fields["authentication"] = row.get("actor_authentication")
        return cls.model_validate({**fields, "actor": actor, "device": named})


class LogPage(BaseModel):
    """A page of the access log, newest first; pass ``next_cursor`` as ``before``."""

    entries: list[LogEntry]
    next_cursor: int | None
