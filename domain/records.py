"""The in-memory state of a space, as its events build it: plain records, no behaviour
beyond "is this active at that instant".

Events never store these classes (they store the plain forms of ``domain.values``);
only replaying events builds them, so they may change shape freely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.key_bytes import SealedText
from domain.values import Actor, Ciphertext, Scope
from wire.values import DocumentType, SourceId

#: checks a one-time code against its stored digest record (``keys.codes.verify_code``);
#: passed in so that the domain never hashes anything itself
CodeCheck = Callable[[str, Mapping[str, Any]], bool]


class SpaceStatus(StrEnum):
    """Where a space is in its life (RULES.md, "Life of a space")."""

    PENDING = "pending"  # provisioned, opposition still possible until ``opens_at``
    OPPOSED = "opposed"  # the person opposed: no space, nothing may be deposited
    OPEN = "open"
    CLOSED = "closed"  # archived: nobody reads, the data waits for deletion
    DELETED = "deleted"  # crypto-shredded: events stay, content is gone for good


class Setting(StrEnum):
    """The patient's space-level choices that the policy reads."""

    #: CSP L1111-17: the patient may forbid emergency access beforehand
    EMERGENCY_ACCESS_FORBIDDEN = "emergency_access_forbidden"
    #: whether an emergency access also reveals documents masked from professionals
    EMERGENCY_REVEALS_MASKED = "emergency_reveals_masked"
    #: CSP R1111-49: the attending physician may see masked documents if the patient agrees
    ATTENDING_PHYSICIAN_SEES_MASKED = "attending_physician_sees_masked"


class RepresentativeKind(StrEnum):
    """Why someone represents the patient."""

    PARENT = "parent"  # holder of parental authority over a minor: ends at majority
    GUARDIAN = "guardian"  # appointed by a judge (tutelle): ends when revoked


class GrantBasis(StrEnum):
    """Why a grant exists."""

    CONSENT = "consent"  # the patient (or a representative) granted it
    CARE_TEAM = "care_team"  # deemed authorised as a member of the care team (R1111-46)


@dataclass(frozen=True)
class DocumentVersion:
    """One deposited version of a document: its ciphertext and its sealed data key."""

    number: int
    #: sealed to ``document_key``; clear text only in deposits recorded before
    #: document keys existed
    title: str | SealedText
    date: date
    ciphertext: Ciphertext
    sealed_key: str
    author: Actor
    deposited_at: datetime
    #: the depositor's identifier of this version (DMP uniqueId, FHIR masterIdentifier)
    source: SourceId | None = None
    #: the version's own key, to which ``sealed_key`` and ``title`` are sealed again:
    #: destroying it is the version's crypto-shredding (None before document keys)
    document_key: str | None = None


@dataclass
class Announcement:
    """A document held back from the patient until an announcement consultation."""

    notice_at: datetime
    visible_at: datetime
    notice_sent_at: datetime | None = None
    released_at: datetime | None = None


@dataclass
class Document:
    """A document of the space and its versions; deleted documents keep their history."""

    id: UUID
    type: DocumentType
    author: Actor
    versions: list[DocumentVersion] = field(default_factory=list)
    deleted_at: datetime | None = None
    #: MASQUE_PS: hidden from professionals other than its author (RULES rule 5)
    masked: bool = False
    #: INVISIBLE_REPRESENTANTS_LEGAUX: a minor's secret (RULES rule 7)
    invisible_to_representatives: bool = False
    #: INVISIBLE_PATIENT: held for an announcement consultation (RULES rule 6), see
    #: ``invisible_to_patient``
    announcement: Announcement | None = None
    #: its space key was destroyed (crypto-shredding): the blobs go too
    shredded: bool = False

    @property
    def current(self) -> DocumentVersion:
        """The latest version."""
        return self.versions[-1]

    @property
    def deleted(self) -> bool:
        """True once the patient deleted it, or the space was shredded."""
        return self.deleted_at is not None

    def invisible_to_patient(self, now: datetime) -> bool:
        """INVISIBLE_PATIENT at ``now``: held, neither released nor a month past."""
        held = self.announcement
        return held is not None and held.released_at is None and now < held.visible_at

    def release(self, at: datetime) -> None:
        """Apply a release: the patient sees the held document from ``at``."""
        if self.announcement is not None:
            self.announcement.released_at = at

    def notice_sent(self, at: datetime) -> None:
        """Apply a notice: the patient was told the held document awaits them."""
        if self.announcement is not None:
            self.announcement.notice_sent_at = at


@dataclass
class Grant:
    """A professional's right to read part of the space, until revoked or expired."""

    id: UUID
    grantee: Actor
    scope: Scope
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None
    basis: GrantBasis = GrantBasis.CONSENT
    #: when a later grant to the same professional replaced it (streams recorded
    #: before grants were one per professional: see ``domain.space``)
    superseded_at: datetime | None = None
    #: when its scope, expiry or basis last changed (granted again)
    changed_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """True when neither revoked, superseded nor expired at ``now``."""
        if self.revoked_at is not None or self.superseded_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass
class Representation:
    """Someone acting on the patient's behalf, from ``since`` until ``until`` or revoked."""

    #: who: their role and id (the rules' business); their name is ``name``, so this
    #: actor's name is empty when the appointment sealed it
    representative: Actor
    #: the representative's display name: sealed to the space key (clear in
    #: appointments recorded before sealing)
    name: str | SealedText
    kind: RepresentativeKind
    since: datetime
    until: datetime | None
    ended_at: datetime | None = None
    end_reason: str | None = None
    #: the act the appointment rests on (``domain.representatives.LegalBasis.to_dict``),
    #: its ``reference`` sealed as ``name`` is; None for representatives recorded before
    #: appointments carried one
    basis: dict[str, str | SealedText] | None = None

    def active(self, now: datetime) -> bool:
        """True when not ended and, for a parent, before the patient's majority."""
        if self.ended_at is not None:
            return False
        return self.until is None or now < self.until


@dataclass
class EmergencyAccess:
    """A declared emergency access (bris de glace): one professional, for a while."""

    id: UUID
    professional: Actor
    #: sealed to the space key (clear in accesses recorded before sealing)
    justification: str | SealedText
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """True from its declaration until it expires or the space closes."""
        return self.ended_at is None and self.started_at <= now < self.expires_at
