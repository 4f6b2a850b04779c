"""The access policy: one pure function from a space's state to a read decision.

The checks follow RULES.md ("Who may read a document") in order; the first that fails
is the reason recorded on the refusal. Later rules (blocking, the profession matrix,
masks, representatives, emergency access) slot in as further checks here, and nowhere
else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.space import Document, Grant, Space
from domain.values import Actor, Role


class Rule(StrEnum):
    """The rule that refused a read, recorded on the refusal and shown to the patient."""

    UNKNOWN_DOCUMENT = "unknown_document"
    DOCUMENT_DELETED = "document_deleted"
    NOT_AUTHORISED = "not_authorised"


class Mode(StrEnum):
    """How a read was allowed: the patient sees this in the access log."""

    PATIENT = "patient"
    AUTHOR = "author"
    GRANT = "grant"


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
    """An active grant of ``reader`` whose scope covers ``document``, if any."""
    for grant in space.grants.values():
        if (
            grant.grantee.id == reader.id
            and grant.active(now)
            and grant.scope.covers(document.id, document.type)
        ):
            return grant
    return None


def decide_read(space: Space, document_id: UUID, reader: Actor, now: datetime) -> Decision:
    """May ``reader`` read the current version of ``document_id`` at ``now``?"""
    document = space.documents.get(document_id)
    if document is None:
        return Decision.refuse(Rule.UNKNOWN_DOCUMENT)
    if document.deleted:
        return Decision.refuse(Rule.DOCUMENT_DELETED)
    if space.is_patient(reader):
        return Decision.allow(Mode.PATIENT)
    if reader.role in (Role.PROFESSIONAL, Role.SERVICE) and reader.id == document.author.id:
        return Decision.allow(Mode.AUTHOR)
    if reader.role is Role.PROFESSIONAL:
        grant = covering_grant(space, reader, document, now)
        if grant is not None:
            return Decision.allow(Mode.GRANT, grant.id)
    return Decision.refuse(Rule.NOT_AUTHORISED)


def may_list(space: Space, document: Document, reader: Actor, now: datetime) -> bool:
    """Whether ``reader`` may know that ``document`` exists (listings, counts)."""
    return decide_read(space, document.id, reader, now).allowed
