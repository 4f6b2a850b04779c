"""Read decisions: one pure answer per question, from a space's state.

* ``decide_read``: may this actor read this document now, and if not, which rule refuses?
* ``may_list``: may this actor know the document exists (listings, counts)?
  ``codes_hidden_from`` is its confidentiality part, for views that filter rows by code.
* ``readers``: who may read this document now (every actor the state names)?
* ``may_deposit`` / ``require_depositor``: may this actor deposit in this space?
* ``may_know_space``: may this actor learn that the space exists?

They read a ``ReadState``: the ``Space`` aggregate itself, or a ``SpaceFacts`` a
projection assembles from the events it saw (``projections.access_views``), so that a
view and the aggregate answer with the same code.

``decide_read`` follows RULES.md ("Who may read a document") in order; the first check
that fails is the reason recorded on the refusal:

1. the space is open                                   ``space_not_open``
   (the document exists and is not deleted)            ``unknown_document``,
                                                       ``document_deleted``
2. the reader is the patient, an active representative, the author, a professional in
   an active emergency access, or the holder of an active grant (consent or care team)
   covering the document                               ``not_authorised``
3. the reader is not blocked                           ``blocked``
4. the reader's profession may see the type            ``profession_matrix``
5. not ``masked``, unless the reader is the author, the attending physician when the
   patient allowed it, or in an emergency access when the patient's setting lets
   emergencies reveal masked documents                 ``masked_from_professionals``
6. for the patient (and their representatives, who act as the patient): not
   ``invisible_to_patient``                            ``invisible_to_patient``
7. for a representative: not ``invisible_to_representatives``
                                                       ``invisible_to_representatives``

Every time-based rule compares instants here (grant and emergency expiry, opening,
announcement, majority), so a decision never waits on the scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from domain.matrix import DEFAULT_MATRIX, Matrix
from domain.records import Document, Grant, GrantBasis, Setting
from domain.values import Actor
from wire.errors import Forbidden
from wire.values import Role

if TYPE_CHECKING:  # the concept modules build on this one
    from domain.blocks import Blocks
    from domain.emergency import Emergencies
    from domain.grants import Grants
    from domain.life import Life
    from domain.representatives import Representatives


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
    #: checked by the read use case before the policy: the device named is not
    #: approved, or was revoked (``domain.reader.Reader.usable_key``)
    DEVICE_NOT_APPROVED = "device_not_approved"
    DEVICE_REVOKED = "device_revoked"


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


class ReadState(Protocol):
    """What the read decisions read of a space: its patient and its concept objects."""

    @property
    def patient_id(self) -> str: ...
    @property
    def life(self) -> Life: ...
    @property
    def documents(self) -> Mapping[UUID, Document]: ...
    @property
    def grants(self) -> Grants: ...
    @property
    def representatives(self) -> Representatives: ...
    @property
    def blocks(self) -> Blocks: ...
    @property
    def emergency(self) -> Emergencies: ...


@dataclass
class SpaceFacts:
    """A ``ReadState`` assembled outside the aggregate (by a projection, from events)."""

    patient_id: str
    life: Life
    documents: dict[UUID, Document]
    grants: Grants
    representatives: Representatives
    blocks: Blocks
    emergency: Emergencies


def is_patient(state: ReadState, actor: Actor) -> bool:
    """True when ``actor`` is the space's patient."""
    return actor.role is Role.PATIENT and actor.id == state.patient_id


def is_holder(state: ReadState, actor: Actor, now: datetime) -> bool:
    """The patient, or someone representing them at ``now``."""
    return is_patient(state, actor) or state.representatives.active(actor, now) is not None


def _is_author(document: Document, reader: Actor) -> bool:
    author = document.author
    return reader.role in (Role.PROFESSIONAL, Role.SERVICE) and (reader.role, reader.id) == (
        author.role,
        author.id,
    )


def _basis(state: ReadState, document: Document, reader: Actor, now: datetime) -> Decision:
    # Rule 2. An emergency access comes before grants: while it lasts, every read its
    # professional makes (except of their own documents) is logged as an emergency one.
    if is_patient(state, reader):
        return Decision.allow(Mode.PATIENT)
    if state.representatives.active(reader, now) is not None:
        return Decision.allow(Mode.REPRESENTATIVE)
    if _is_author(document, reader):
        return Decision.allow(Mode.AUTHOR)
    if reader.role is Role.PROFESSIONAL:
        if state.emergency.active_for(reader.id, now) is not None:
            return Decision.allow(Mode.EMERGENCY)
        grant = state.grants.covering(reader.id, document, now)
        if grant is not None:
            mode = Mode.CARE_TEAM if grant.basis is GrantBasis.CARE_TEAM else Mode.GRANT
            return Decision.allow(mode, grant.id)
    return Decision.refuse(Rule.NOT_AUTHORISED)


def _mask_lifted(state: ReadState, reader: Actor, mode: Mode) -> bool:
    # Rule 5's exceptions: the author, the attending physician when the patient allowed
    # it (CSP R1111-49), an emergency access when the patient's setting says so.
    if mode is Mode.AUTHOR:
        return True
    settings = state.blocks.settings
    if (
        state.blocks.is_attending_physician(reader)
        and settings[Setting.ATTENDING_PHYSICIAN_SEES_MASKED]
    ):
        return True
    return mode is Mode.EMERGENCY and settings[Setting.EMERGENCY_REVEALS_MASKED]


def decide_read(
    state: ReadState,
    document_id: UUID,
    reader: Actor,
    now: datetime,
    matrix: Matrix = DEFAULT_MATRIX,
) -> Decision:
    """May ``reader`` read the current version of ``document_id`` at ``now``?"""
    if not state.life.is_open(now):
        return Decision.refuse(Rule.SPACE_NOT_OPEN)
    document = state.documents.get(document_id)
    if document is None:
        return Decision.refuse(Rule.UNKNOWN_DOCUMENT)
    if document.deleted:
        return Decision.refuse(Rule.DOCUMENT_DELETED)
    decision = _basis(state, document, reader, now)
    if not decision.allowed:
        return decision
    assert decision.mode is not None
    if reader.role is Role.PROFESSIONAL:
        if state.blocks.blocks(reader.id):
            return Decision.refuse(Rule.BLOCKED)
        assert reader.profession is not None  # an Actor invariant for professionals
        if not matrix.allows(reader.profession, document.type):
            return Decision.refuse(Rule.PROFESSION_MATRIX)
        if document.masked and not _mask_lifted(state, reader, decision.mode):
            return Decision.refuse(Rule.MASKED)
    if decision.mode in (Mode.PATIENT, Mode.REPRESENTATIVE) and document.invisible_to_patient(now):
        return Decision.refuse(Rule.INVISIBLE_TO_PATIENT)
    if decision.mode is Mode.REPRESENTATIVE and document.invisible_to_representatives:
        return Decision.refuse(Rule.INVISIBLE_TO_REPRESENTATIVES)
    return decision


def may_list(
    state: ReadState,
    document: Document,
    reader: Actor,
    now: datetime,
    matrix: Matrix = DEFAULT_MATRIX,
) -> bool:
    """Whether ``reader`` may know that ``document`` exists (listings, counts)."""
    return decide_read(state, document.id, reader, now, matrix).allowed


#: which confidentiality codes keep a document's existence from a reader of each role
#: while they are set (rules 6 and 7): the patient does not know of a document held for
#: an announcement, and representatives, who act as the patient, neither of that nor of
#: a minor's secret. Code names are ``Document`` fields and access-log view columns.
_HIDDEN_BY_CODES: Mapping[Role, tuple[str, ...]] = {
    Role.PATIENT: ("invisible_to_patient",),
    Role.REPRESENTATIVE: ("invisible_to_patient", "invisible_to_representatives"),
}


def codes_hidden_from(role: Role) -> tuple[str, ...]:
    """The codes that keep a document out of the listings, counts, log lines and notices
    of a reader of ``role`` (``may_list``'s answer for rules 6 and 7, for a projection
    that filters its rows by the codes it recorded)."""
    return _HIDDEN_BY_CODES.get(role, ())


def candidates(state: ReadState, document: Document, now: datetime) -> list[Actor]:
    """Everyone the state names who might read ``document``: the patient's
    representatives, its author, professionals in an emergency access and grantees.

    (The patient is not an ``Actor`` the state holds; ``decide_read`` answers for them.)
    """
    seen: dict[tuple[Role, str], Actor] = {}
    named = [r.representative for r in state.representatives.in_office(now)]
    named.append(document.author)
    named += [a.professional for a in state.emergency.values() if a.active(now)]
    named += [g.grantee for g in state.grants.active(now)]
    for actor in named:
        seen.setdefault((actor.role, actor.id), actor)
    return list(seen.values())


def readers(
    state: ReadState,
    document_id: UUID,
    now: datetime,
    matrix: Matrix = DEFAULT_MATRIX,
) -> dict[str, Decision]:
    """Who may read ``document_id`` at ``now`` among those the state names, by actor id,
    with the decision that lets them (``decide_read`` for each)."""
    document = state.documents.get(document_id)
    if document is None:
        return {}
    allowed: dict[str, Decision] = {}
    for actor in candidates(state, document, now):
        decision = decide_read(state, document_id, actor, now, matrix)
        if decision.allowed:
            allowed[actor.id] = decision
    return allowed


def may_deposit(state: ReadState, actor: Actor, now: datetime) -> bool:
    """Whether ``actor`` may deposit in this space: not a regulator; a patient or a
    representative only in the space they hold; professionals and services anywhere.
    (Whether the space is open is the life cycle's answer, checked with the deposit.)"""
    if actor.role is Role.REGULATOR:
        return False
    if actor.role in (Role.PATIENT, Role.REPRESENTATIVE):
        return is_holder(state, actor, now)
    return True


def require_depositor(state: ReadState, actor: Actor, now: datetime) -> None:
    """``Forbidden`` unless ``actor`` may deposit in this space (``may_deposit``)."""
    if not may_deposit(state, actor, now):
        raise Forbidden("this caller may not deposit in this space")


def may_know_space(state: ReadState, actor: Actor, now: datetime) -> bool:
    """Whether ``actor`` may learn that this space exists.

    Professionals and platform services may: they deposit into any open space, and a
    professional's refused read is answered like an unknown document anyway. A person
    learns only of the space they hold (the patient, an active representative), and a
    regulator of none through the space's routes (the trail is theirs). Everyone else
    is answered exactly as if there were no space, so no answer is an existence oracle.
    """
    if actor.role in (Role.PROFESSIONAL, Role.SERVICE):
        return True
    return is_holder(state, actor, now)


def grant_in_force(state: ReadState, professional_id: str, now: datetime) -> Grant | None:
    """The grant through which ``professional_id`` may read in this space at ``now``:
    their active grant, in an open space that has not blocked them (the documents it
    covers are then each ``decide_read``'s answer)."""
    if not state.life.is_open(now) or state.blocks.blocks(professional_id):
        return None
    return state.grants.active_for(professional_id, now)
