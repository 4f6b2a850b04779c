"""What the vault's use cases return: small immutable records, never aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class SpaceKeyInfo:
    """The public half of a space key, to which depositors seal data keys."""

    patient_id: str
    space_id: UUID
    key_id: str
    public_key: str  # base64


@dataclass(frozen=True)
class UploadReceipt:
    """Proof that a ciphertext was stored, to be named by the deposit that follows."""

    blob: str
    size: int
    sha256: str
    ticket: str
    expires_at: datetime


@dataclass(frozen=True)
class Deposit:
    """A recorded deposit: the document and the version it created."""

    document_id: UUID
    version: int


@dataclass(frozen=True)
class DocumentSummary:
    """A document as a reader allowed to see it is shown it (no key material)."""

    document_id: UUID
    type: str
    title: str
    date: date
    version: int
    author_name: str
    author_organisation: str | None
    size: int
    deposited_at: datetime


@dataclass(frozen=True)
class GrantSummary:
    """A grant as the patient sees it."""

    grant_id: UUID
    grantee_id: str
    grantee_name: str
    grantee_profession: str | None
    scope: dict[str, object]
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


@dataclass(frozen=True)
class Release:
    """What an authorised, recorded read returns.

    ``sealed_key`` is the document's data key sealed to the reader's registered public
    key: only the reader's secret key opens it. ``content_ticket`` fetches the
    ciphertext for a short while; ``content_url`` is a direct (presigned) link when the
    blob store offers one.
    """

    access_id: UUID
    document: DocumentSummary
    sha256: str
    sealed_key: str  # base64
    content_ticket: str
    content_url: str | None
    expires_at: datetime
