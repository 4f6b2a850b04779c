"""The vault: one method per use case, each one transaction on the event store.

Order of operations is what makes the invariants hold:

* provision: the space key is stored (wrapped) *before* ``Provisioned`` is recorded, so
  no event ever names a key that does not exist; the one-time code is hashed here
  (``keys.codes``) and only its digest reaches the space;
* deposit: the ciphertext blob is stored *before* ``Deposited`` is recorded; a blob no
  event names is an orphan that ``collect_orphans`` removes;
* read: the policy is evaluated on the space as stored now (never on a projection), the
  access is recorded and committed (together with the records of concurrent reads, in
  one transaction: ``vault.groupcommit``), and only then is the data key resealed and
  returned. If recording fails, every caller of that transaction gets an error and no
  key;
* shredding: ``Shredded`` is recorded *before* the key is destroyed and the blobs are
  removed; both are idempotent and redone whenever the scheduler meets a deleted space,
  so a crash between the steps cannot leave a key behind.

The use cases of the space's life cycle and of its rules live in ``vault.life`` and
``vault.rules`` (mixed into ``Vault``); the scheduler in ``vault.scheduler``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.access import Access
from domain.periods import Periods
from domain.policy import decide_read, may_know_space, may_list
from domain.reader import Reader
from domain.space import Document, Space
from domain.space_access import Registry
from domain.values import Actor, Ciphertext, Scope
from keys.codes import CodeHasher
from keys.keyring import Keyring
from vault.blobstore import BlobStore
from vault.clock import Clock, SystemClock
from vault.groupcommit import GroupCommit
from vault.inbox import InboxCases
from vault.life import LifeCases
from vault.rules import Confidentiality, RuleCases
from vault.tickets import TicketSigner
from wire.dto import Deposit, DocumentSummary, Release, SpaceKeyInfo, UploadReceipt
from wire.envelope import MAGIC, VERSION
from wire.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Unavailable,
    UnknownDocument,
    UnknownSpace,
)
from wire.values import DocumentMetadata, Role

T = TypeVar("T")
A = TypeVar("A", Space, Reader)

#: the first bytes of every Coffre envelope (format v1): checked on upload
HEADER_PREFIX = MAGIC + bytes([VERSION])

#: attempts at a command whose space changed under it before giving up with Conflict
COMMAND_ATTEMPTS = 5


class Vault(LifeCases, RuleCases, InboxCases, Application):
    """Coffre's application service over the event store, key ring and blob store."""

    name = "vault"  # pinned: the table prefix must survive a class rename
    # No snapshots: a space's in-memory state (documents, grants, representatives...)
    # is made of records no transcoding is registered for, so a snapshot could not be
    # stored (it failed at the 100th event); and reads, the bulk of a space's activity,
    # are separate aggregates, so a space's own stream stays short.

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        keyring: Keyring,
        blobs: BlobStore,
        ticket_key: bytes,
        clock: Clock | None = None,
        content_ttl: timedelta = timedelta(minutes=5),
        upload_ttl: timedelta = timedelta(hours=1),
        max_document_size: int = 4 * 1024**3,
        presign: bool = False,
        periods: Periods | None = None,
        codes: CodeHasher | None = None,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(env=env)
        self.periods = periods or Periods()
        # who may appoint legal representatives (``COFFRE_REGISTRY_SERVICES``): nobody
        # unless configured
        self.registry = registry or Registry()
        self.codes = codes or CodeHasher()
        self.keyring = keyring
        self.blobs = blobs
        self.clock = clock or SystemClock()
        self.content_ttl = content_ttl
        self.upload_ttl = upload_ttl
        self.max_document_size = max_document_size
        self.presign = presign
        self._upload_tickets = TicketSigner(ticket_key, "upload")
        self._content_tickets = TicketSigner(ticket_key, "content")
        # Access records of concurrent reads share one transaction (vault.groupcommit).
        self.access_commits: GroupCommit[Access] = GroupCommit(self._store)

    # -- spaces ------------------------------------------------------------------

    def space_key(self, patient_id: str, actor: Actor | None = None) -> SpaceKeyInfo:
        """The public key to which depositors seal data keys for this space.

        With ``actor``, only a depositor of this space may ask (``Forbidden`` otherwise):
        not a regulator, and a patient only for their own space. Without, anyone may.
        """
        space = self._space(patient_id, actor)
        if actor is not None:
            self._require_depositor(space, actor)
        return self._key_info(space)

    # -- reader keys -------------------------------------------------------------

    def register_reader_key(self, actor: Actor, public_key: bytes | str) -> str:
        """Register a reading client's public key for ``actor``; returns the key id."""

        def change() -> tuple[Reader, str]:
            try:
                reader = self.repository.get(Reader.create_id(actor.role.value, actor.id))
            except AggregateNotFoundError:
                reader = Reader.for_actor(actor)
            return reader, reader.register(public_key, actor, self.clock.now())

        return self._retry(change)

    # -- deposits ----------------------------------------------------------------

    def upload(self, patient_id: str, chunks: Iterable[bytes], actor: Actor) -> UploadReceipt:
        """Store a document's ciphertext and return a receipt for the deposit.

        The stream must be a Coffre envelope (checked on its first bytes) of at most
        ``max_document_size`` bytes; otherwise nothing is stored.
        """
        space = self._space(patient_id, actor)
        self._require_depositor(space, actor)
        if not space.is_open(self.clock.now()):
            raise Conflict("the space is not open")  # before storing a blob for nothing
        blob = uuid4().hex
        info = self.blobs.put(blob, self._checked_envelope(chunks))
        expires_at = self.clock.now() + self.upload_ttl
        ticket = self._upload_tickets.sign(
            {
                "blob": info.name,
                "size": info.size,
                "sha256": info.sha256,
                "space": str(space.id),
                "by": actor.id,
            },
            expires_at,
        )
        return UploadReceipt(info.name, info.size, info.sha256, ticket, expires_at)

    def deposit(
        self,
        patient_id: str,
        receipt: str,
        metadata: DocumentMetadata,
        sealed_key: bytes | str,
        actor: Actor,
        document_id: UUID | None = None,
        confidentiality: Confidentiality | None = None,
    ) -> Deposit:
        """Record a deposit (or a new version when ``document_id`` names a document).

        ``confidentiality`` sets the document's codes in the same transaction: masked
        from professionals, held for an announcement consultation, secret from the
        legal representatives (``vault.rules.Confidentiality``).
        """
        payload = self._upload_tickets.verify(receipt, self.clock.now())
        ciphertext = Ciphertext(payload["blob"], int(payload["size"]), payload["sha256"])
        target = document_id or uuid4()

        def change() -> tuple[Space, Deposit]:
            space = self._space(patient_id, actor)
            if payload["space"] != str(space.id) or payload["by"] != actor.id:
                raise InvalidInput(
                    "the upload receipt is for another space or depositor", field="receipt"
                )
            self._require_depositor(space, actor)
            if document_id is not None and document_id not in space.documents:
                raise UnknownDocument("no such document in this space")
            now = self.clock.now()
            if any(
                v.ciphertext.blob == ciphertext.blob
                for d in space.documents.values()
                for v in d.versions
            ):
                raise Conflict("this upload was already deposited")
            version = space.deposit(target, metadata, ciphertext, sealed_key, actor, now)
            if confidentiality is not None:
                confidentiality.apply(space, target, self.periods, actor, now)
            return space, Deposit(target, version)

        return self._retry(change)

    def delete_document(self, patient_id: str, document_id: UUID, actor: Actor) -> None:
        """The patient deletes a document from their space."""

        def change() -> tuple[Space, None]:
            space = self._space(patient_id, actor)
            space.delete_document(document_id, actor, self.clock.now())
            return space, None

        self._retry(change)

    # -- grants ------------------------------------------------------------------

    def grant(
        self,
        patient_id: str,
        grantee: Actor,
        scope: Scope,
        expires_at: datetime | None,
        actor: Actor,
    ) -> UUID:
        """The patient grants a professional access to ``scope``; returns the grant id."""
        grant_id = uuid4()

        def change() -> tuple[Space, UUID]:
            space = self._space(patient_id, actor)
            # One grant per professional: an active one is changed, and its id returned.
            made = space.grant(grant_id, grantee, scope, expires_at, actor, self.clock.now())
            return space, made

        return self._retry(change)

    def revoke(self, patient_id: str, grant_id: UUID, actor: Actor) -> None:
        """The patient revokes a grant; effective on the grantee's very next read."""

        def change() -> tuple[Space, None]:
            space = self._space(patient_id, actor)
            space.revoke(grant_id, actor, self.clock.now())
            return space, None

        self._retry(change)

    def revoke_professional(self, patient_id: str, professional_id: str, actor: Actor) -> UUID:
        """The patient ends a professional's access (their active grant); returns its id."""

        def change() -> tuple[Space, UUID]:
            space = self._space(patient_id, actor)
            return space, space.revoke_professional(professional_id, actor, self.clock.now())

        return self._retry(change)

    # -- reads -------------------------------------------------------------------

    def documents(self, patient_id: str, actor: Actor) -> list[DocumentSummary]:
        """The documents ``actor`` may read; others are not even counted."""
        space = self._space(patient_id, actor)
        now = self.clock.now()
        return [
            _summary(document)
            for document in space.documents.values()
            if may_list(space, document, actor, now)
        ]

    def read(self, patient_id: str, document_id: UUID, actor: Actor, reader_key_id: str) -> Release:
        """Authorise, record, then release the document's key resealed to the reader.

        A refused read is recorded too, and answers exactly like an unknown document so
        that a refusal never reveals that the document exists.
        """
        reader_key = self._reader_key(actor, reader_key_id)
        space = self._space(patient_id)
        now = self.clock.now()
        decision = decide_read(space, document_id, actor, now)
        if not decision.allowed:
            # Recorded even for a caller who may not know the space: its patient sees
            # the attempt, while the caller's answer is the one a missing space gets.
            self._save(
                Access.record_refusal(space.id, document_id, actor, decision, space.version, now)
            )
            if not may_know_space(space, actor, now):
                raise UnknownSpace("no space for this patient")
            raise UnknownDocument("no such document in this space")
        document = space.documents[document_id]
        version = document.current
        access = Access.record_read(
            space.id,
            document_id,
            version.number,
            actor,
            reader_key_id,
            decision,
            space.version,
            now,
        )
        self._save(access)  # raises before any key is touched if the record cannot be stored
        sealed = self.keyring.reseal(
            space.id, space.key_id, base64.b64decode(version.sealed_key), reader_key
        )
        expires_at = now + self.content_ttl
        ticket = self._content_tickets.sign(
            {"blob": version.ciphertext.blob, "access": str(access.id)}, expires_at
        )
        url = (
            self.blobs.url_for_get(version.ciphertext.blob, self.content_ttl)
            if self.presign
            else None
        )
        return Release(
            access_id=access.id,
            document=_summary(document),
            sha256=version.ciphertext.sha256,
            sealed_key=base64.b64encode(sealed).decode("ascii"),
            content_ticket=ticket,
            content_url=url,
            expires_at=expires_at,
        )

    def open_content(self, ticket: str) -> tuple[int, Iterator[bytes]]:
        """The size and byte stream of the ciphertext a content ticket names."""
        payload = self._content_tickets.verify(ticket, self.clock.now())
        blob = payload["blob"]
        return self.blobs.size(blob), self.blobs.open(blob)

    def authorise_log(self, patient_id: str, actor: Actor) -> UUID:
        """The space id whose access log ``actor`` may read: only the patient's own.

        The reading is recorded (``Access.LogRead``) before the id is returned: RULES.md
        says reading the log is itself recorded. The log never lists a document held
        for an announcement consultation (``projections.access_log``).
        """
        space = self._space(patient_id, actor)
        if not space.is_patient(actor):
            raise Forbidden("only the patient reads their access log")
        self._save(Access.record_log_read(space.id, actor, self.clock.now()))
        return space.id

    # -- housekeeping ------------------------------------------------------------

    def referenced_blobs(self) -> set[str]:
        """Names of every blob a ``Deposited`` event refers to."""
        names: set[str] = set()
        topic = f"{Space.Deposited.__module__}:{Space.Deposited.__qualname__}"
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=1000, topics=[topic])
            for notification in page:
                event = self.mapper.to_domain_event(notification)
                names.add(event.blob)  # type: ignore[attr-defined]
            if len(page) < 1000:
                return names
            start = page[-1].id + 1

    def collect_orphans(self, older_than: timedelta) -> int:
        """Delete blobs older than ``older_than`` that no deposit names; returns the count.

        ``older_than`` must exceed the upload receipt lifetime, or a blob whose deposit
        is still to come could be collected.
        """
        if older_than < self.upload_ttl:
            raise InvalidInput(
                "orphans are collected only after receipts expire", field="older_than"
            )
        cutoff = self.clock.now() - older_than
        candidates = list(self.blobs.names(older_than=cutoff))
        referenced = self.referenced_blobs()
        orphans = [name for name in candidates if name not in referenced]
        for name in orphans:
            self.blobs.delete(name)
        return len(orphans)

    # -- internals ---------------------------------------------------------------

    def _space(self, patient_id: str, actor: Actor | None = None) -> Space:
        # With ``actor``: a caller who may not learn that this space exists gets the
        # very answer a missing space gets (``may_know_space``), never a 403.
        try:
            space: Space = self.repository.get(_space_id(patient_id), projector_func=_replay)
        except AggregateNotFoundError:
            raise UnknownSpace("no space for this patient") from None
        if actor is not None and not may_know_space(space, actor, self.clock.now()):
            raise UnknownSpace("no space for this patient")
        return space

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _reader_key(self, actor: Actor, key_id: str) -> bytes:
        try:
            reader = self.repository.get(
                _reader_id(actor.role.value, actor.id), projector_func=_replay
            )
        except AggregateNotFoundError:
            reader = Reader.for_actor(actor)
        return base64.b64decode(reader.public_key(key_id))

    def _key_info(self, space: Space) -> SpaceKeyInfo:
        return SpaceKeyInfo(space.patient_id, space.id, space.key_id, space.public_key)

    def _require_depositor(self, space: Space, actor: Actor) -> None:
        if actor.role is Role.REGULATOR or (
            actor.role in (Role.PATIENT, Role.REPRESENTATIVE)
            and not space.is_holder(actor, self.clock.now())
        ):
            raise Forbidden("this caller may not deposit in this space")

    def _checked_envelope(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        # Validate while streaming: raising here aborts the blob put, so nothing is stored.
        size = 0
        head = b""
        for chunk in chunks:
            size += len(chunk)
            if size > self.max_document_size:
                raise InvalidInput("the document is larger than this vault accepts", field="body")
            if len(head) < len(HEADER_PREFIX):
                head += chunk[: len(HEADER_PREFIX) - len(head)]
                if not HEADER_PREFIX.startswith(head):
                    raise InvalidInput("the body is not a Coffre envelope", field="body")
            yield chunk
        if len(head) < len(HEADER_PREFIX):
            raise InvalidInput("the body is not a Coffre envelope", field="body")

    def _save(self, *aggregates: Space | Access | Reader) -> None:
        # Returns only once the aggregates are committed: the read path releases a key
        # after this call (invariant 2). A lone access record (a read, a refused read, a
        # log read) is committed together with those of concurrent reads; it has a fresh
        # id, so it cannot conflict with them.
        if len(aggregates) == 1 and isinstance(aggregates[0], Access):
            self.access_commits.submit(aggregates[0])
        else:
            self._store(aggregates)

    def _store(self, aggregates: Sequence[Space | Access | Reader]) -> None:
        # One transaction; the event store's failures become Unavailable, conflicts stay.
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise
        except PersistenceError as error:
            raise Unavailable(f"the event store failed: {type(error).__name__}") from None

    def _on_space(
        self, patient_id: str, actor: Actor, command: Callable[[Space, datetime], T]
    ) -> T:
        # One command on one space by ``actor``: load, apply at the clock's now, save,
        # retry on conflict.
        def change() -> tuple[Space, T]:
            space = self._space(patient_id, actor)
            return space, command(space, self.clock.now())

        return self._retry(change)

    def _retry(self, change: Callable[[], tuple[Space | Reader, T]]) -> T:
        # Optimistic concurrency: reload and reapply when another writer got there first.
        for _ in range(COMMAND_ATTEMPTS):
            aggregate, result = change()
            try:
                self._save(aggregate)
            except IntegrityError:
                continue
            return result
        raise Conflict("the space kept changing; try again")


# Aggregate ids are uuid5 digests of who they belong to: computed once per person, not
# on every read (a few percent of a read's CPU).
_space_id = lru_cache(maxsize=65_536)(Space.create_id)
_reader_id = lru_cache(maxsize=65_536)(Reader.create_id)


def _replay(aggregate: A | None, events: Iterable[DomainEventProtocol[UUID]]) -> A | None:
    # eventsourcing's project_aggregate, without its per-event isinstance check against a
    # runtime-checkable Protocol, which took ~9 % of a read's CPU: every event stored by
    # this application is an Aggregate event, which has ``mutate``.
    for event in events:
        aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
    return aggregate


def _summary(document: Document) -> DocumentSummary:
    version = document.current
    return DocumentSummary(
        document_id=document.id,
        type=document.type.value,
        title=version.title,
        date=version.date,
        version=version.number,
        author_name=version.author.name,
        author_organisation=version.author.organisation,
        size=version.ciphertext.size,
        deposited_at=version.deposited_at,
    )
