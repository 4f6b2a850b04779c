"""A patient's space: the consistency boundary for documents, grants and their rules.

Public methods validate and compute (ids, times, digests are passed in); the private
``@event`` methods (and the ``apply`` of the events of the parts) only assign, because
they run again on every replay. One access decision needs documents, grants, masks,
blocks, representatives and emergency accesses together, which is why they share this
aggregate. The aggregate is written in three parts, one module each:

* ``domain.space`` (here): provisioning, deposits, deletions, grants, the scheduler's
  due actions;
* ``domain.space_life``: code, opposition, activation, closure, re-opening, shredding;
* ``domain.space_rules``: masks and secrecy codes, announcement holds;
* ``domain.space_access``: blocks, attending physician, settings, care team,
  representatives, emergency access;
* ``domain.space_due``: what the scheduler records when a moment comes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.policy import decide_read
from domain.records import (
    Document,
    DocumentVersion,
    Grant,
    GrantBasis,
    Representation,
    Setting,
    SpaceStatus,
)
from domain.space_access import SpaceAccess
from domain.space_due import SpaceDue
from domain.space_life import SpaceLife
from domain.space_rules import SpaceRules
from domain.values import (
    Actor,
    Ciphertext,
    Scope,
    ScopeKind,
    parse_patient_id,
    parse_professional_id,
)
from wire.errors import Conflict, InvalidInput, UnknownDocument, UnknownGrant
from wire.values import DocumentMetadata, DocumentType, Role, require_aware

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SEALED_KEY_SIZE",
    "Document",
    "DocumentVersion",
    "Grant",
    "Space",
    "b64",
    "decode_key_bytes",
]


SPACE_NAMESPACE = uuid5(NAMESPACE_URL, "https://coffre.invalid/space")

#: crypto_box_seal of a 32-byte key: 32 (ephemeral public key) + 16 (MAC) + 32
SEALED_KEY_SIZE = 80
PUBLIC_KEY_SIZE = 32


def decode_key_bytes(value: str | bytes, *, size: int, field: str) -> bytes:
    """Accept raw bytes or base64 text of exactly ``size`` bytes."""
    if isinstance(value, str):
        try:
            value = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{field} is not valid base64", field=field) from None
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidInput(f"{field} must be {size} bytes", field=field)
    return value


def b64(data: bytes) -> str:
    """Standard base64 text, the form bytes take inside events."""
    return base64.b64encode(data).decode("ascii")


class Space(SpaceDue, SpaceAccess, SpaceRules, SpaceLife):
    """A patient's health space."""

    @staticmethod
    def create_id(patient_id: str) -> UUID:  # type: ignore[override]
        """The space's id is derived from the patient id, so the store enforces one each."""
        return uuid5(SPACE_NAMESPACE, parse_patient_id(patient_id))

    class Provisioned(Aggregate.Created):
        patient_id: str
        key_id: str
        public_key: str
        actor: dict[str, Any]
        at: datetime

    @event(Provisioned)
    def __init__(
        self, patient_id: str, key_id: str, public_key: str, actor: dict[str, Any], at: datetime
    ) -> None:
        self.patient_id = patient_id
        self.key_id = key_id
        self.public_key = public_key
        self.provisioned_by = Actor.from_dict(actor)
        self.provisioned_at = at
        self.documents: dict[UUID, Document] = {}
        self.grants: dict[UUID, Grant] = {}
        # Life cycle. A space recorded before the life cycle existed has no
        # ``OpeningScheduled`` event: it is open from its provisioning, as it always was.
        self.status = SpaceStatus.OPEN
        self.opens_at = at
        self.activated_at: datetime | None = None
        self.code: dict[str, Any] | None = None
        self.code_failures = 0
        self.birth_date: date | None = None
        self.closed_at: datetime | None = None
        self.archive_until: datetime | None = None
        self.deletion_due_at: datetime | None = None
        self.shredded_at: datetime | None = None
        self.shredded_keys: list[str] = []
        # The patient's rules.
        self.representatives: dict[str, Representation] = {}
        self.blocked: dict[str, Actor] = {}
        self.attending_physician: Actor | None = None
        self.settings: dict[Setting, bool] = {setting: False for setting in Setting}
        self.emergency_accesses: dict[UUID, Any] = {}

    @classmethod
    def provision(
        cls,
        patient_id: str,
        key_id: str,
        public_key: bytes,
        actor: Actor,
        at: datetime,
        *,
        code: Mapping[str, Any] | None = None,
        opens_at: datetime | None = None,
        birth_date: date | None = None,
    ) -> Space:
        """Provision a space for a patient with the public half of the space key.

        With ``code`` (the digest record of the one-time code sent by letter) the space
        is pending until ``opens_at``, when it opens unless the person opposed.
        """
        if actor.role not in (Role.SERVICE,):
            raise InvalidInput("spaces are provisioned by a platform service", field="actor")
        if (code is None) is not (opens_at is None):
            raise InvalidInput("a code and an opening date go together", field="code")
        space = cls(
            patient_id=parse_patient_id(patient_id),
            key_id=key_id,
            public_key=b64(decode_key_bytes(public_key, size=PUBLIC_KEY_SIZE, field="public_key")),
            actor=actor.to_dict(),
            at=require_aware(at, field="at"),
        )
        if code is not None and opens_at is not None:
            space.prepare_opening(code, opens_at, birth_date, actor, at)
            # With no opposition period left, the space opens in the same transaction
            # rather than whenever a scheduler next passes.
            space.apply_due(at)
        return space

    # -- documents ---------------------------------------------------------------

    def document(self, document_id: UUID) -> Document:
        """The document, deleted or not; ``UnknownDocument`` when it never existed."""
        try:
            return self.documents[document_id]
        except KeyError:
            raise UnknownDocument("no such document in this space") from None

    def deposit(
        self,
        document_id: UUID,
        metadata: DocumentMetadata,
        ciphertext: Ciphertext,
        sealed_key: bytes | str,
        author: Actor,
        at: datetime,
    ) -> int:
        """Deposit a document, or a new version of one; returns the version number.

        Only into an open space (RULES: documents may be deposited once the space is
        open, before activation). A new version keeps the document's type and may only
        come from its author or the holder; a document the depositor may not see
        answers like one that does not exist.
        """
        sealed = decode_key_bytes(sealed_key, size=SEALED_KEY_SIZE, field="sealed_key")
        require_aware(at, field="at")
        if author.role is Role.REGULATOR:
            raise InvalidInput("regulators do not deposit documents", field="actor")
        if author.role is Role.PATIENT and author.id != self.patient_id:
            raise InvalidInput("a patient deposits only in their own space", field="actor")
        if author.role is Role.REPRESENTATIVE:
            self._require_holder(author, at)
        self._require_open(at)
        existing = self.documents.get(document_id)
        if existing is not None:
            knows = self.is_holder(author, at) or author.id == existing.author.id
            if existing.deleted and knows:
                raise Conflict("the document was deleted; deposit a new one")
            if not decide_read(self, document_id, author, at).allowed:
                raise UnknownDocument("no such document in this space")
            if author.id != existing.author.id and not self.is_holder(author, at):
                raise Conflict("only the author or the patient adds a version")
            if metadata.type is not existing.type:
                raise InvalidInput("a new version keeps the document's type", field="type")
        version = 1 if existing is None else len(existing.versions) + 1
        self._deposited(
            document_id=document_id,
            version=version,
            type=metadata.type.value,
            title=metadata.title,
            date=metadata.date.isoformat(),
            blob=ciphertext.blob,
            size=ciphertext.size,
            sha256=ciphertext.sha256,
            sealed_key=b64(sealed),
            author=author.to_dict(),
            at=at,
        )
        return version

    class Deposited(Aggregate.Event):
        document_id: UUID
        version: int
        type: str
        title: str
        date: str
        blob: str
        size: int
        sha256: str
        sealed_key: str
        author: dict[str, Any]
        at: datetime

    @event(Deposited)
    def _deposited(
        self,
        document_id: UUID,
        version: int,
        type: str,
        title: str,
        date: str,
        blob: str,
        size: int,
        sha256: str,
        sealed_key: str,
        author: dict[str, Any],
        at: datetime,
    ) -> None:
        by = Actor.from_dict(author)
        if version == 1:
            self.documents[document_id] = Document(document_id, DocumentType(type), by)
        self.documents[document_id].versions.append(
            DocumentVersion(
                number=version,
                title=title,
                date=_parse_date(date),
                ciphertext=Ciphertext(blob=blob, size=size, sha256=sha256),
                sealed_key=sealed_key,
                author=by,
                deposited_at=at,
            )
        )

    def delete_document(self, document_id: UUID, actor: Actor, at: datetime) -> None:
        """The holder deletes a document; its events stay, its content is unreadable."""
        require_aware(at, field="at")
        self._require_holder(actor, at)
        self._require_open(at)
        document = self.documents.get(document_id)
        if document is not None and document.deleted:
            raise Conflict("the document is already deleted")
        if not decide_read(self, document_id, actor, at).allowed:
            raise UnknownDocument("no such document in this space")
        self._document_deleted(document_id=document_id, actor=actor.to_dict(), at=at)

    class DocumentDeleted(Aggregate.Event):
        document_id: UUID
        actor: dict[str, Any]
        at: datetime

    @event(DocumentDeleted)
    def _document_deleted(self, document_id: UUID, actor: dict[str, Any], at: datetime) -> None:
        self.documents[document_id].deleted_at = at

    # -- grants ------------------------------------------------------------------
    #
    # One active grant per professional per space: granting again to a professional who
    # holds an active grant changes that grant (scope, expiry, basis) and keeps its id,
    # so that revoking it ends their access at once. Streams recorded before this rule
    # may hold several grants to one professional ("stacked"); they replay as follows
    # (docs/rules.md, "One grant per professional"):
    #
    # * a ``Granted`` or ``CareTeamJoined`` to a professional who holds an active grant
    #   at that instant supersedes it: the earlier grant ends then (``superseded_at``);
    # * a ``Revoked`` ends the named grant and every other grant of the same
    #   professional active at that instant: revoking any of their grants revokes the
    #   professional's access.
    #
    # New commands never stack (they record ``GrantChanged`` instead), so both rules
    # only ever act on such old streams, and a replay gives the same decisions the new
    # commands would have.

    def active_grant(self, professional_id: str, now: datetime) -> Grant | None:
        """The professional's active grant at ``now`` (consent or care team), if any."""
        for grant in self.grants.values():
            if grant.grantee.id == professional_id and grant.active(now):
                return grant
        return None

    def grant(
        self,
        grant_id: UUID,
        grantee: Actor,
        scope: Scope,
        expires_at: datetime | None,
        actor: Actor,
        at: datetime,
    ) -> UUID:
        """The holder lets a professional read the documents ``scope`` covers.

        Returns the grant's id: ``grant_id`` for a new grant, or the id of the
        professional's active grant, which this changes (scope, expiry) instead of
        adding a second one.
        """
        require_aware(at, field="at")
        if grantee.id in (actor.id, self.patient_id):
            raise InvalidInput("a grant to oneself is meaningless", field="grantee")
        self._require_holder(actor, at)
        if grantee.role is not Role.PROFESSIONAL:
            raise InvalidInput("grants go to health professionals", field="grantee")
        if expires_at is not None and require_aware(expires_at, field="expires_at") <= at:
            raise InvalidInput("a grant's expiry must be in the future", field="expires_at")
        self._require_open(at)
        if scope.kind is ScopeKind.DOCUMENTS:
            for document_id in scope.documents:
                # the same answer for a document that does not exist and one the
                # granting holder may not see (a minor's secret, a held document)
                if not decide_read(self, document_id, actor, at).allowed:
                    raise InvalidInput("the scope names an unknown document", field="scope")
        if grant_id in self.grants:
            raise Conflict("a grant with this id exists")
        current = self.active_grant(grantee.id, at)
        if current is not None:
            self._change_grant(current, scope, expires_at, GrantBasis.CONSENT, actor, at)
            return current.id
        self._granted(
            grant_id=grant_id,
            grantee=grantee.to_dict(),
            scope=scope.to_dict(),
            expires_at=expires_at,
            actor=actor.to_dict(),
            at=at,
        )
        return grant_id

    def _change_grant(
        self,
        current: Grant,
        scope: Scope,
        expires_at: datetime | None,
        basis: GrantBasis,
        actor: Actor,
        at: datetime,
    ) -> None:
        # Granting exactly what is granted records nothing: the answer is the same id.
        if (current.scope, current.expires_at, current.basis) != (scope, expires_at, basis):
            self.trigger_event(
                self.GrantChanged,
                grant_id=current.id,
                scope=scope.to_dict(),
                expires_at=expires_at,
                basis=basis.value,
                actor=actor.to_dict(),
                at=at,
            )

    class Granted(Aggregate.Event):
        grant_id: UUID
        grantee: dict[str, Any]
        scope: dict[str, Any]
        expires_at: datetime | None
        actor: dict[str, Any]
        at: datetime

    @event(Granted)
    def _granted(
        self,
        grant_id: UUID,
        grantee: dict[str, Any],
        scope: dict[str, Any],
        expires_at: datetime | None,
        actor: dict[str, Any],
        at: datetime,
    ) -> None:
        self.add_grant(
            Grant(
                id=grant_id,
                grantee=Actor.from_dict(grantee),
                scope=Scope.from_dict(scope),
                granted_at=at,
                expires_at=expires_at,
            )
        )

    def add_grant(self, grant: Grant) -> None:
        """Apply a new grant (consent or care team): it supersedes the professional's
        active grant, which only an old stream can hold (see above)."""
        current = self.active_grant(grant.grantee.id, grant.granted_at)
        if current is not None:
            current.superseded_at = grant.granted_at
        self.grants[grant.id] = grant

    class GrantChanged(Aggregate.Event):
        """A professional's active grant was granted again: new scope, expiry, basis."""

        grant_id: UUID
        scope: dict[str, Any]
        expires_at: datetime | None
        basis: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            grant = aggregate.grants[self.grant_id]
            grant.scope = Scope.from_dict(self.scope)
            grant.expires_at = self.expires_at
            grant.basis = GrantBasis(self.basis)
            grant.changed_at = self.at

    def revoke(self, grant_id: UUID, actor: Actor, at: datetime) -> None:
        """The holder ends a grant; the very next read by the grantee is refused."""
        self._require_holder(actor, require_aware(at, field="at"))
        grant = self.grants.get(grant_id)
        if grant is None:
            raise UnknownGrant("no such grant in this space")
        if grant.revoked_at is not None:
            raise Conflict("the grant is already revoked")
        self._revoked(grant_id=grant_id, actor=actor.to_dict(), at=require_aware(at, field="at"))

    def revoke_professional(self, professional_id: str, actor: Actor, at: datetime) -> UUID:
        """The holder ends the professional's access: their active grant is revoked.

        Returns the revoked grant's id; ``UnknownGrant`` when they hold no active grant.
        """
        require_aware(at, field="at")
        professional_id = parse_professional_id(professional_id)
        self._require_holder(actor, at)
        current = self.active_grant(professional_id, at)
        if current is None:
            raise UnknownGrant("this professional holds no active grant in this space")
        self._revoked(grant_id=current.id, actor=actor.to_dict(), at=at)
        return current.id

    class Revoked(Aggregate.Event):
        grant_id: UUID
        actor: dict[str, Any]
        at: datetime

    @event(Revoked)
    def _revoked(self, grant_id: UUID, actor: dict[str, Any], at: datetime) -> None:
        revoked = self.grants[grant_id]
        # Revoking any grant of a professional revokes their access (see above).
        for grant in self.grants.values():
            if grant is revoked or (grant.grantee.id == revoked.grantee.id and grant.active(at)):
                grant.revoked_at = at

    # -- helpers -----------------------------------------------------------------

    def is_patient(self, actor: Actor) -> bool:
        """True when the actor is this space's patient."""
        return actor.role is Role.PATIENT and actor.id == self.patient_id

    def representation(self, actor: Actor, now: datetime) -> Representation | None:
        """The actor's active representation of the patient at ``now``, if any."""
        if actor.role is not Role.REPRESENTATIVE:
            return None
        current = self.representatives.get(actor.id)
        return current if current is not None and current.active(now) else None

    def is_holder(self, actor: Actor, now: datetime) -> bool:
        """The patient, or someone representing them at ``now``: who manages the space."""
        return self.is_patient(actor) or self.representation(actor, now) is not None


def _parse_date(text: str) -> date:
    return date.fromisoformat(text)
