"""Documents of a space: deposits, new versions, deletion (RULES.md, "Documents").

``Documents`` is the concept's state (every document, deleted or not, by id);
``DocumentCommands`` is the part of ``domain.space.Space`` that records deposits and
deletions. A document someone may not see answers exactly like one that does not exist
(``UnknownDocument``), whatever the command: the read decision (``domain.reads``) says
who may see it.

Feeding is idempotent (``DocumentCommands.prior_deposit``): a deposit may carry the
depositor's source identifier (``wire.values.SourceId``), which names one document of
the space for that depositor. The same identifier with the same ciphertext is the same
deposit again (its document is answered, nothing is recorded); with other content it
is refused (``AlreadyDeposited`` naming the document) unless the deposit names that
document, which makes it a new version of it (a replacement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.key_bytes import (
    DOCUMENT_SEALED_KEY_SIZE,
    SEALED_KEY_SIZE,
    DocumentSeal,
    b64,
    decode_key_bytes,
    stored_text,
)
from domain.reads import decide_read, require_depositor
from domain.records import Document, DocumentVersion
from domain.space_state import SpaceState
from domain.values import Actor, Ciphertext
from wire.errors import AlreadyDeposited, Conflict, InvalidInput, UnknownDocument
from wire.values import DocumentMetadata, DocumentType, SourceId, require_aware

#: a source identifier as a depositor's own: (role, actor id, system, value)
SourceKey = tuple[str, str, str, str]


def source_key(author: Actor, source: SourceId) -> SourceKey:
    """Whose identifier this is: a source identifier belongs to its depositor, so one
    depositor's identifiers never match (nor reveal) another's documents."""
    return (author.role.value, author.id, source.system, source.value)


@dataclass(frozen=True)
class DepositOutcome:
    """What a deposit came to: the document and version that hold the content, whether
    this deposit recorded them (``recorded``) or found them already there, and the
    blob that version names."""

    document_id: UUID
    version: int
    recorded: bool
    blob: str


#: stored type names to their members: a dict lookup, where ``DocumentType(name)``
#: went through the enum machinery for every replayed deposit
_TYPES: dict[str, DocumentType] = {t.value: t for t in DocumentType}


class Documents(dict[UUID, Document]):
    """A space's documents by id, deleted ones included (their history stays)."""

    def __init__(self) -> None:
        super().__init__()
        #: which document each depositor's source identifier names
        self.sources: dict[SourceKey, UUID] = {}
        #: the document and version each blob was deposited in: a deposit checks it,
        #: and scanning every version made a deposit's cost grow with the space
        self.blobs: dict[str, tuple[UUID, DocumentVersion]] = {}

    def add_version(self, document_id: UUID, version: DocumentVersion, type: DocumentType) -> None:
        """Apply a deposit: a new document at version 1, else one more version."""
        if version.number == 1:
            self[document_id] = Document(document_id, type, version.author)
        self[document_id].versions.append(version)
        self.blobs.setdefault(version.ciphertext.blob, (document_id, version))
        if version.source is not None:
            self.sources[source_key(version.author, version.source)] = document_id

    def shred_all(self, at: datetime) -> None:
        """The space key was destroyed: every document is gone, its blobs too."""
        for document in self.values():
            document.shredded = True
            if document.deleted_at is None:
                document.deleted_at = at

    def holds_blob(self, blob: str) -> bool:
        """True when some version of some document was deposited from ``blob``."""
        return self.holding(blob) is not None

    def holding(self, blob: str) -> tuple[UUID, DocumentVersion] | None:
        """The document and version deposited from ``blob``, if any."""
        return self.blobs.get(blob)


class DocumentCommands(SpaceState):
    """Deposits and deletions (a part of ``Space``)."""

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
        sealed_key: DocumentSeal | bytes | str,
        author: Actor,
        at: datetime,
        source: SourceId | None = None,
    ) -> DepositOutcome:
        """Deposit a document, or a new version of one (``document_id`` names it).

        Only into an open space (RULES: documents may be deposited once the space is
        open, before activation), by a depositor of this space (``require_depositor``).
        A new version keeps the document's type and may only come from its author or
        the holder; a document the depositor may not see answers like one that does
        not exist. An upload is deposited once, and a source identifier names one
        document (``prior_deposit``): a retry records nothing and answers the deposit
        it repeats.

        ``sealed_key`` is a :class:`DocumentSeal` (the vault's deposits: the data key and
        the title sealed again to the version's own key, so ``metadata.title`` is not
        recorded) or, for a deposit without a document key, the depositor's sealed data
        key, recorded with the title in clear as deposits were before document keys.
        """
        if isinstance(sealed_key, DocumentSeal):
            sealed = decode_key_bytes(
                sealed_key.sealed_key, size=DOCUMENT_SEALED_KEY_SIZE, field="sealed_key"
            )
            title, document_key = sealed_key.title, sealed_key.key_id
        else:
            sealed = decode_key_bytes(sealed_key, size=SEALED_KEY_SIZE, field="sealed_key")
            title, document_key = metadata.title, None
        require_aware(at, field="at")
        require_depositor(self, author, at)
        self._require_open(at)
        prior = self.prior_deposit(document_id, ciphertext, author, source)
        if prior is not None:
            return prior
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
        self.trigger_event(
            self.Deposited,
            document_id=document_id,
            version=version,
            type=metadata.type.value,
            title=title,
            date=metadata.date.isoformat(),
            blob=ciphertext.blob,
            size=ciphertext.size,
            sha256=ciphertext.sha256,
            sealed_key=b64(sealed),
            author=author.to_dict(),
            at=at,
            source=None if source is None else source.to_dict(),
            document_key=document_key,
        )
        return DepositOutcome(document_id, version, recorded=True, blob=ciphertext.blob)

    def prior_deposit(
        self,
        document_id: UUID,
        ciphertext: Ciphertext,
        author: Actor,
        source: SourceId | None,
    ) -> DepositOutcome | None:
        """The feeding rule: the deposit this one repeats, or None when it is new.

        * an upload already deposited is that deposit again when it carries the same
          source identifier, else ``AlreadyDeposited`` (an upload is deposited once);
        * a source identifier this depositor has not used yet: a new deposit;
        * the same identifier with the same ciphertext (SHA-256) as one of the versions
          it names: that version, recorded nothing (a retry, or the same ciphertext
          uploaded again);
        * the same identifier with other content: ``AlreadyDeposited`` naming the
          document, unless the deposit names that document (``document_id``): then it
          replaces it, as a new version under the usual rules.
        """
        held = self.documents.holding(ciphertext.blob)
        if held is not None:
            held_id, version = held
            if source is not None and _same_source(version, author, source):
                return DepositOutcome(held_id, version.number, False, version.ciphertext.blob)
            raise AlreadyDeposited(
                f"this upload was already deposited (document {held_id})", document_id=held_id
            )
        if source is None:
            return None
        named = self.documents.sources.get(source_key(author, source))
        if named is None:
            return None
        for version in self.documents[named].versions:
            same_content = version.ciphertext.sha256 == ciphertext.sha256
            if same_content and _same_source(version, author, source):
                return DepositOutcome(named, version.number, False, version.ciphertext.blob)
        if document_id == named:
            return None  # a replacement: a new version of the document it names
        raise AlreadyDeposited(
            f"this source identifier names document {named}, with other content; name "
            "that document (document_id) to deposit a new version of it",
            document_id=named,
        )

    class Deposited(Aggregate.Event):
        """A document, or a new version of one, was deposited."""

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
        #: the depositor's source identifier ``{system, value}``; None for deposits
        #: without one, and absent from events recorded before it existed
        source: dict[str, str] | None = None
        #: the version's own key id; when set, ``title`` is the base64 of the title
        #: sealed to it and ``sealed_key`` the data key sealed again to it (absent from
        #: events recorded before document keys existed, whose title is clear text)
        document_key: str | None = None

        def __post_init__(self) -> None:
            super().__post_init__()
            # Without them, the event holds exactly the fields every earlier deposit
            # holds: its stored state and its trail digest (``event_digest`` binds the
            # optional fields an event holds) are shaped as they always were.
            for optional in ("source", "document_key"):
                if self.__dict__.get(optional) is None:
                    self.__dict__.pop(optional, None)

        def apply(self, aggregate: Any) -> None:
            by = Actor.from_dict(self.author)
            document_key = self.__dict__.get("document_key")
            version = DocumentVersion(
                number=self.version,
                title=stored_text(self.title, document_key),
                date=date.fromisoformat(self.date),
                ciphertext=Ciphertext.from_stored(self.blob, self.size, self.sha256),
                sealed_key=self.sealed_key,
                author=by,
                deposited_at=self.at,
                source=None if self.source is None else SourceId.from_dict(self.source),
                document_key=document_key,
            )
            aggregate.documents.add_version(self.document_id, version, _TYPES[self.type])

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
        self.trigger_event(
            self.DocumentDeleted, document_id=document_id, actor=actor.to_dict(), at=at
        )

    class DocumentDeleted(Aggregate.Event):
        """The holder deleted a document."""

        document_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.documents[self.document_id].deleted_at = self.at


def _same_source(version: DocumentVersion, author: Actor, source: SourceId) -> bool:
    # the version carries this identifier, and it is this depositor's
    if version.source is None:
        return False
    return source_key(version.author, version.source) == source_key(author, source)
