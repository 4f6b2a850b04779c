"""The access policy: one pure function from a space's state to a read decision.

The checks follow RULES.md ("Who may read a document") in order; the first that fails
is the reason recorded on the refusal:

1. the space is open                                   ``space_not_open``
   (the document exists and is not deleted)            ``unknown_document``,
                                                       ``document_deleted``
2. the reader is the patient, an active representative, the author, a professional in
   an active emergency access, or the holder of an active grant (consent or care team)
   covering the document                               ``not_authorised``
3. the reader is not blocked                           ``blocked``
4. the reader's profession may see the type            ``profession_matrix``
5. not masked from professionals (MASQUE_PS), unless the reader is the author, the
   attending physician when the patient allowed it, or in an emergency access when
   the patient's setting lets emergencies reveal masked documents
                                                       ``masked_from_professionals``
6. for the patient (and their representatives, who act as the patient): not held for
   an announcement consultation (INVISIBLE_PATIENT)    ``invisible_to_patient``
7. for a representative: not secret from representatives
   (INVISIBLE_REPRESENTANTS_LEGAUX)                    ``invisible_to_representatives``

Every time-based rule compares instants here (grant and emergency expiry, opening,
announcement, majority), so a decision never waits on the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from domain.matrix import DEFAULT_MATRIX, Matrix
from domain.records import Document, EmergencyAccess, Grant, GrantBasis, Setting
from domain.values import Actor
from wire.values import Role

if TYPE_CHECKING:  # the space imports this module; the policy only reads a space
    from domain.space import Space


class Rule(StrEnum):
    """The rule that refused a read, recorded on the refusal and shown to the patient."""

    SPACE_NOT_OPEN = "space_not_open"
    UNKNOWN_DOCUMENT = "unknown_document"
    DOCUMENT_DELETED = "document_deleted"
    NOT_AUTHORISED = "not_authorised"
    BLOCKED = "blocked"
    PROFESSION_MATRIX = "profession_matrix"
    MASKED = "masked_from_professionals"
    INVISIBLE_TO_PATIENT = "invisible_to_patient"
    INVISIBLE_TO_REPRESENTATIVES = "invisible_to_representatives"


class Mode(StrEnum):
    """How a read was allowed: the patient sees this in the access log."""

    PATIENT = "patient"
    REPRESENTATIVE = "representative"
    AUTHOR = "author"
    EMERGENCY = "emergency"
    GRANT = "grant"
    CARE_TEAM = "care_team"


@dataclass(frozen=True)
class Decision:
    """The outcome of the policy: allowed with a mode, or refused with a rule."""

    allowed: bool
    mode: Mode | None = None
    rule: Rule | None = None
    grant_id: UUID | None = None

    @classmethod
    def allow(cls, mode: Mode, grant_id: UUID | None = None) -> Decision:
        """An allowed read."""
        return cls(True, mode=mode, grant_id=grant_id)

    @classmethod
    def refuse(cls, rule: Rule) -> Decision:
        """A refused read, naming the first rule that failed."""
        return cls(False, rule=rule)


def covering_grant(space: Space, reader: Actor, document: Document, now: datetime) -> Grant | None:
    """The first active grant of ``reader`` (in order of creation) covering ``document``."""
    for grant in space.grants.values():
        if (
            grant.grantee.id == reader.id
            and grant.active(now)
            and grant.scope.covers(document.id, document.type)
        ):
            return grant
    return None


def active_emergency(space: Space, reader: Actor, now: datetime) -> EmergencyAccess | None:
    """An emergency access of ``reader`` in force at ``now``, if any."""
    for access in space.emergency_accesses.values():
        if access.professional.id == reader.id and access.active(now):
            return access
    return None


def _basis(space: Space, document: Document, reader: Actor, now: datetime) -> Decision:
    # Rule 2. An emergency access comes before grants: while it lasts, every read its
    # professional makes (except of their own documents) is logged as an emergency one.
    if space.is_patient(reader):
        return Decision.allow(Mode.PATIENT)
    if space.representation(reader, now) is not None:
        return Decision.allow(Mode.REPRESENTATIVE)
    author = document.author
    if reader.role in (Role.PROFESSIONAL, Role.SERVICE) and (reader.role, reader.id) == (
        author.role,
        author.id,
    ):
        return Decision.allow(Mode.AUTHOR)
    if reader.role is Role.PROFESSIONAL:
        if active_emergency(space, reader, now) is not None:
            return Decision.allow(Mode.EMERGENCY)
        grant = covering_grant(space, reader, document, now)
        if grant is not None:
            mode = Mode.CARE_TEAM if grant.basis is GrantBasis.CARE_TEAM else Mode.GRANT
            return Decision.allow(mode, grant.id)
    return Decision.refuse(Rule.NOT_AUTHORISED)


def _mask_lifted(space: Space, reader: Actor, mode: Mode) -> bool:
    # Rule 5's exceptions: the author, the attending physician when the patient allowed
    # it (CSP R1111-49), an emergency access when the patient's setting says so.
    if mode is Mode.AUTHOR:
        return True
    physician = space.attending_physician
    if (
        physician is not None
        and physician.id == reader.id
        and space.settings[Setting.ATTENDING_PHYSICIAN_SEES_MASKED]
    ):
        return True
    return mode is Mode.EMERGENCY and space.settings[Setting.EMERGENCY_REVEALS_MASKED]


def decide_read(
    space: Space,
    document_id: UUID,
    reader: Actor,
    now: datetime,
    matrix: Matrix = DEFAULT_MATRIX,
) -> Decision:
    """May ``reader`` read the current version of ``document_id`` at ``now``?"""
    if not space.is_open(now):
        return Decision.refuse(Rule.SPACE_NOT_OPEN)
    document = space.documents.get(document_id)
    if document is None:
        return Decision.refuse(Rule.UNKNOWN_DOCUMENT)
    if document.deleted:
        return Decision.refuse(Rule.DOCUMENT_DELETED)
    decision = _basis(space, document, reader, now)
    if not decision.allowed:
        return decision
    assert decision.mode is not None
    if reader.role is Role.PROFESSIONAL:
        if reader.id in space.blocked:
            return Decision.refuse(Rule.BLOCKED)
        assert reader.profession is not None  # an Actor invariant for professionals
        if not matrix.allows(reader.profession, document.type):
            return Decision.refuse(Rule.PROFESSION_MATRIX)
        if document.masked and not _mask_lifted(space, reader, decision.mode):
            return Decision.refuse(Rule.MASKED)
    if decision.mode in (Mode.PATIENT, Mode.REPRESENTATIVE) and document.awaiting_announcement(now):
        return Decision.refuse(Rule.INVISIBLE_TO_PATIENT)
    if decision.mode is Mode.REPRESENTATIVE and document.hidden_from_representatives:
        return Decision.refuse(Rule.INVISIBLE_TO_REPRESENTATIVES)
    return decision


def may_list(
    space: Space, document: Document, reader: Actor, now: datetime, matrix: Matrix = DEFAULT_MATRIX
) -> bool:
    """Whether ``reader`` may know that ``document`` exists (listings, counts)."""
    return decide_read(space, document.id, reader, now, matrix).allowed


def may_know_space(space: Space, actor: Actor, now: datetime) -> bool:
    """Whether ``actor`` may learn that this space exists.

    Professionals and platform services may: they deposit into any open space, and a
    professional's refused read is answered like an unknown document anyway. A person
    learns only of the space they hold (the patient, an active representative), and a
    regulator of none through the space's routes (the trail is theirs). Everyone else
    is answered exactly as if there were no space, so no answer is an existence oracle.
    """
    if actor.role in (Role.PROFESSIONAL, Role.SERVICE):
        return True
    return space.is_holder(actor, now)
