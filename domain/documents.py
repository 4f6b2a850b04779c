"""Documents of a space: deposits, new versions, deletion (RULES.md, "Documents").

``Documents`` is the concept's state (every document, deleted or not, by id);
``DocumentCommands`` is the part of ``domain.space.Space`` that records deposits and
deletions. A document someone may not see answers exactly like one that does not exist
(``UnknownDocument``), whatever the command: the read decision (``domain.reads``) says
who may see it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.key_bytes import SEALED_KEY_SIZE, b64, decode_key_bytes
from domain.reads import decide_read, require_depositor
from domain.records import Document, DocumentVersion
from domain.space_state import SpaceState
from domain.values import Actor, Ciphertext
from wire.errors import Conflict, InvalidInput, UnknownDocument
from wire.values import DocumentMetadata, DocumentType, require_aware


class Documents(dict[UUID, Document]):
    """A space's documents by id, deleted ones included (their history stays)."""

    def add_version(self, document_id: UUID, version: DocumentVersion, type: DocumentType) -> None:
        """Apply a deposit: a new document at version 1, else one more version."""
        if version.number == 1:
            self[document_id] = Document(document_id, type, version.author)
        self[document_id].versions.append(version)

    def shred_all(self, at: datetime) -> None:
        """The space key was destroyed: every document is gone, its blobs too."""
        for document in self.values():
            document.shredded = True
            if document.deleted_at is None:
                document.deleted_at = at

    def holds_blob(self, blob: str) -> bool:
        """True when some version of some document was deposited from ``blob``."""
        return any(v.ciphertext.blob == blob for d in self.values() for v in d.versions)


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
        sealed_key: bytes | str,
        author: Actor,
        at: datetime,
    ) -> int:
        """Deposit a document, or a new version of one; returns the version number.

        Only into an open space (RULES: documents may be deposited once the space is
        open, before activation), by a depositor of this space (``require_depositor``).
        A new version keeps the document's type and may only come from its author or
        the holder; a document the depositor may not see answers like one that does
        not exist.
        """
        sealed = decode_key_bytes(sealed_key, size=SEALED_KEY_SIZE, field="sealed_key")
        require_aware(at, field="at")
        require_depositor(self, author, at)
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
        self.trigger_event(
            self.Deposited,
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

        def apply(self, aggregate: Any) -> None:
            by = Actor.from_dict(self.author)
            version = DocumentVersion(
                number=self.version,
                title=self.title,
                date=date.fromisoformat(self.date),
                ciphertext=Ciphertext(blob=self.blob, size=self.size, sha256=self.sha256),
                sealed_key=self.sealed_key,
                author=by,
                deposited_at=self.at,
            )
            aggregate.documents.add_version(self.document_id, version, DocumentType(self.type))

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
