"""What the vault's use cases return: small immutable records, never aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    """A deposit: the document and version it created, or (``created`` false) those of
    the earlier deposit it repeated (same source identifier and content)."""

    document_id: UUID
    version: int
    created: bool = True


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
    #: its confidentiality codes as they stand for this reader (FHIR ``securityLabel``);
    #: a reader a code hides the document from never gets it listed at all
    masked: bool = False
    invisible_to_patient: bool = False
    invisible_to_representatives: bool = False


@dataclass(frozen=True)
class DocumentPage:
    """A page of a space's listing: pass ``next_cursor`` as the next page's ``after``
    (None: this was the last page)."""

    documents: list[DocumentSummary]
    next_cursor: UUID | None


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
    #: ``consent`` (granted by the holder) or ``care_team`` (declared by an establishment)
    basis: str = "consent"


@dataclass(frozen=True)
class Release:
    """What an authorised, recorded read returns.

    ``sealed_key`` is the document's data key sealed to the reader's registered public
    key: only the reader's secret key opens it. ``content_ticket`` fetches the
    ciphertext for a short while; ``content_url`` is a direct (presigned) link when the
    blob store offers one, and ``content_alternates`` the same link at the store's other
    endpoints (to try in order when ``content_url`` cannot be reached).
    """

    access_id: UUID
    document: DocumentSummary
    sha256: str
    sealed_key: str  # base64
    content_ticket: str
    content_url: str | None
    expires_at: datetime
    content_alternates: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProvisionedSpace(SpaceKeyInfo):
    """A space just provisioned (or opened again): its key, and the one-time code.

    ``one_time_code`` exists only here, once, for the letter; the vault keeps only its
    digest. ``opens_at`` is when the space opens unless the person opposes before.
    """

    one_time_code: str = field(repr=False, default="")
    opens_at: datetime | None = None
    reimported: bool = False


@dataclass(frozen=True)
class RepresentativeEntry:
    """A legal representative listed in the insurer's register."""

    id: str  # the representative's own INS
    name: str
    kind: str = "parent"


@dataclass(frozen=True)
class RegisterEntry:
    """One row of the insurer's register: a person to provision a space for."""

    patient_id: str
    birth_date: date | None = None
    representatives: tuple[RepresentativeEntry, ...] = ()


@dataclass(frozen=True)
class RegisterReport:
    """What a bulk provisioning did: new spaces (with codes) and those already there."""

    provisioned: list[ProvisionedSpace]
    already_provisioned: list[str]


@dataclass(frozen=True)
class SpaceState:
    """A space's life-cycle state, as its holder sees it."""

    patient_id: str
    status: str
    opens_at: datetime | None
    activated_at: datetime | None
    closed_at: datetime | None
    archive_until: datetime | None
    deletion_due_at: datetime | None


@dataclass(frozen=True)
class RepresentativeSummary:
    """A representative as the holder sees them."""

    id: str
    name: str
    kind: str
    since: datetime
    until: datetime | None
    ended_at: datetime | None
    active: bool


@dataclass(frozen=True)
class EmergencySummary:
    """An emergency access as the holder sees it."""

    access_id: UUID
    professional_id: str
    professional_name: str
    justification: str
    started_at: datetime
    expires_at: datetime
    active: bool


@dataclass(frozen=True)
class AccessRules:
    """Who may currently read what (RULES.md, "What the patient sees")."""

    grants: list[GrantSummary]
    blocked: list[dict[str, object]]
    attending_physician: dict[str, object] | None
    settings: dict[str, bool]
    representatives: list[RepresentativeSummary]
    emergency_accesses: list[EmergencySummary]


@dataclass(frozen=True)
class EmergencyGranted:
    """A declared emergency access."""

    access_id: UUID
    expires_at: datetime


@dataclass(frozen=True)
class DueReport:
    """What one scheduler run recorded, per space (the events' names)."""

    applied: dict[UUID, list[str]]
    failed: dict[UUID, str]


@dataclass(frozen=True)
class DeviceChallenge:
    """A challenge a device signs to prove it holds its key: single use, short-lived,
    valid only for the actor it was issued to."""

    challenge: str
    expires_at: datetime
    role: str  # the actor it was issued to, whom the proof names
    id: str


@dataclass(frozen=True)
class DeviceInfo:
    """A reader device as its owner lists it (public keys only)."""

    key_id: str
    name: str | None
    status: str  # pending, approved, revoked, legacy
    public_key: str  # X25519, base64: what data keys are sealed to
    signing_key: str | None  # Ed25519, base64; None for a legacy key
    requested_at: datetime
    approved_at: datetime | None = None
    method: str | None = None  # device, code or service
    approver: str | None = None
    revoked_at: datetime | None = None
