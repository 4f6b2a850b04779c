"""The vault's core: what every use case shares, and nothing of any one concept.

``VaultCore`` is the event-sourced application (event store, key ring, blob store,
clock, tickets) with the steps every use case is made of: load a space as the caller
may see it (``space``), apply a command and save it with optimistic retries
(``on_space``, ``retry``), commit aggregates (``commit``; lone access records go
through the group commit). The use cases themselves live in one module per concept
(``vault.life``, ``vault.documents``, ``vault.reads``, ``vault.grants``,
``vault.confidentiality``, ``vault.representatives``, ``vault.blocks``,
``vault.emergency``, ``vault.notifications``), each a set of functions over a
``VaultCore``; ``vault.service.Vault`` composes them. This module imports none of
them, so there is no import loop.

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
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.access import Access
from domain.devices import Enrolment
from domain.key_bytes import SealedText
from domain.periods import Periods
from domain.reader import Reader
from domain.reads import may_know_space, require_depositor
from domain.representatives import Registry
from domain.space import Document, Space
from domain.values import Actor
from keys.codes import CodeHasher
from keys.keyring import Keyring, seal_text
from keys.pg_alive import install as install_alive_check
from vault.blobstore import BlobStore
from vault.clock import Clock, SystemClock
from vault.diskfull import storage_full
from vault.groupcommit import GroupCommit
from vault.spacecache import DEFAULT_MAX_EVENTS, SpaceCache
from vault.tickets import TicketSigner
from wire.dto import DocumentSummary, SpaceKeyInfo
from wire.errors import Conflict, StorageFull, Unavailable, UnknownSpace

T = TypeVar("T")
A = TypeVar("A", Space, Reader)

#: attempts at a command whose space changed under it before giving up with Conflict
COMMAND_ATTEMPTS = 5


class VaultCore(Application):
    """The event store, key ring, blob store and clock, and the steps of a use case."""

    name = "vault"  # pinned: the table prefix must survive a class rename
    # No snapshots: a space's in-memory state (documents, grants, representatives...)
    # is made of records no transcoding is registered for, and a snapshot of a large
    # space would still be decoded whole on every load. Loaded spaces are cached per
    # process instead, checked by a probe before each use (vault.spacecache).

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
        cache_events: int = DEFAULT_MAX_EVENTS,
        presign: bool = False,
        periods: Periods | None = None,
        codes: CodeHasher | None = None,
        registry: Registry | None = None,
        enrolment: Enrolment | None = None,
    ) -> None:
        super().__init__(env=env)
        if (datastore := getattr(self.recorder, "datastore", None)) is not None:
            # PostgreSQL: ping a pooled connection only when it may be dead (keys.pg_alive)
            install_alive_check(datastore.pool)
        self.periods = periods or Periods()
        # who may appoint legal representatives (``COFFRE_REGISTRY_SERVICES``): nobody
        # unless configured
        self.registry = registry or Registry()
        # who may approve devices of professionals and services and send enrolment codes
        # (``COFFRE_ENROLMENT_SERVICES``): nobody unless configured
        self.enrolment = enrolment or Enrolment()
        self.codes = codes or CodeHasher()
        self.keyring = keyring
        self.blobs = blobs
        self.clock = clock or SystemClock()
        self.content_ttl = content_ttl
        self.upload_ttl = upload_ttl
        self.max_document_size = max_document_size
        self.presign = presign
        self.upload_tickets = TicketSigner(ticket_key, "upload")
        self.direct_upload_tickets = TicketSigner(ticket_key, "direct-upload")
        self.content_tickets = TicketSigner(ticket_key, "content")
        self.device_challenges = TicketSigner(ticket_key, "device-challenge")
        # Access records of concurrent reads share one transaction (vault.groupcommit).
        self.access_commits: GroupCommit[Access] = GroupCommit(self._store)
        # Loaded spaces, checked against the store before each use (vault.spacecache).
        self.spaces = SpaceCache(self.recorder, self.mapper, _replay, max_events=cache_events)

    # -- loading -----------------------------------------------------------------

    def space(self, patient_id: str, actor: Actor | None = None) -> Space:
        """The patient's space as stored now; ``UnknownSpace`` if there is none.

        With ``actor``: a caller who may not learn that this space exists gets the
        very answer a missing space gets (``may_know_space``), never a 403.
        """
        try:
            space: Space = self.repository.get(_space_id(patient_id), projector_func=_replay)
        except AggregateNotFoundError:
            raise UnknownSpace("no space for this patient") from None
        if actor is not None and not may_know_space(space, actor, self.clock.now()):
            raise UnknownSpace("no space for this patient")
        return space

    @contextmanager
    def held_space(self, patient_id: str, actor: Actor | None = None) -> Iterator[Space]:
        """The patient's space as stored now, held alone until the block ends.

        Like ``space`` (same answers for a missing space or a caller who may not know
        it), but served from the process's cache of loaded spaces (``vault.spacecache``)
        after a probe for newer events, so the cost does not grow with the space. The
        space is shared: use it only inside the block, and commit any change before
        leaving it (``on_space`` does).
        """
        with self.spaces.hold(_space_id(patient_id)) as space:
            if space is None:
                raise UnknownSpace("no space for this patient")
            if actor is not None and not may_know_space(space, actor, self.clock.now()):
                raise UnknownSpace("no space for this patient")
            yield space

    @contextmanager
    def held_space_and_reader(
        self, patient_id: str, actor: Actor
    ) -> Iterator[tuple[Space | None, Reader]]:
        """``held_space`` without its refusals (``None`` for a missing space), and
        ``actor``'s reader devices as stored now, both checked in one round trip. The
        reader is shared and for reading only, inside the block."""
        space_id, reader_id = _space_id(patient_id), _reader_id(actor.role.value, actor.id)
        with self.spaces.hold_with(space_id, reader_id) as (space, reader):
            yield space, reader or Reader(role=actor.role.value, actor_id=actor.id)

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether any event is stored for ``aggregate_id``."""
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def reader(self, role: str, actor_id: str) -> Reader:
        """The reader devices of the owner ``(role, actor_id)`` as stored now (a new,
        unsaved record when they have none yet)."""
        try:
            reader: Reader = self.repository.get(_reader_id(role, actor_id), projector_func=_replay)
        except AggregateNotFoundError:
            reader = Reader(role=role, actor_id=actor_id)
        return reader

    def require_depositor(self, space: Space, actor: Actor) -> None:
        """``Forbidden`` unless ``actor`` may deposit in ``space`` now (the domain's
        answer, ``domain.reads.require_depositor``)."""
        require_depositor(space, actor, self.clock.now())

    # -- saving ------------------------------------------------------------------

    def commit(self, *aggregates: Aggregate) -> None:
        """Store the aggregates' pending events; returns once they are committed.

        The read path releases a key after this call (invariant 2). A lone access
        record (a read, a refused read, a log read) is committed together with those
        of concurrent reads; it has a fresh id, so it cannot conflict with them.
        """
        if len(aggregates) == 1 and isinstance(aggregates[0], Access):
            try:
                self.access_commits.submit(aggregates[0])
            except IntegrityError:
                # Fresh ids conflict with nobody: the store retried an insert whose first
                # attempt committed, its answer lost in a failover. The record may be
                # stored, but this request cannot know it: it releases nothing.
                raise Unavailable("the access record's commit was interrupted") from None
        else:
            self._store(aggregates)

    def _store(self, aggregates: Sequence[Any]) -> None:
        # One transaction; the event store's failures become Unavailable, conflicts stay.
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise
        except PersistenceError as error:
            if storage_full(error):
                raise StorageFull("the event store's disk is full") from None
            raise Unavailable(f"the event store failed: {type(error).__name__}") from None

    def on_space(self, patient_id: str, actor: Actor, command: Callable[[Space, datetime], T]) -> T:
        """One command on one space by ``actor``: load it as ``actor`` may see it,
        apply ``command`` at the clock's now, save, and retry on a concurrent change."""

        for _ in range(COMMAND_ATTEMPTS):
            try:
                # The space stays held until its change is committed: nobody sees an
                # event that was not (vault.spacecache).
                with self.held_space(patient_id, actor) as space:
                    result = command(space, self.clock.now())
                    self.commit(space)
            except IntegrityError:
                continue
            return result
        raise Conflict("the space kept changing; try again")

    def retry(self, change: Callable[[], tuple[Aggregate, T]]) -> T:
        """Apply ``change`` and save its aggregate; on a conflict (another writer got
        there first), reload and reapply, ``COMMAND_ATTEMPTS`` times at most."""
        for _ in range(COMMAND_ATTEMPTS):
            aggregate, result = change()
            try:
                self.commit(aggregate)
            except IntegrityError:
                continue
            return result
        raise Conflict("the space kept changing; try again")


def key_info(space: Space) -> SpaceKeyInfo:
    """The space's public key, as depositors need it."""
    return SpaceKeyInfo(space.patient_id, space.id, space.key_id, space.public_key)


def space_seal(space: Space) -> Callable[[str], SealedText]:
    """What seals a command's free text to ``space``'s key (an emergency access's
    justification, a representative's name and act): shredding the space destroys it
    with the rest. Only the public half is used, so a command may seal while it holds
    its space."""
    return partial(seal_text, space.key_id, base64.b64decode(space.public_key))


def open_texts(core: VaultCore, space_id: UUID, texts: Sequence[str | SealedText]) -> list[str]:
    """Free texts of one space (titles, justifications, representatives' names and
    acts) as recorded, opened, in order.

    Sealed texts are opened with one key-store query for all (texts recorded before
    sealing are clear already); the server opens them for its answers, as it holds the
    space's keys anyway. A text whose key was destroyed (a deleted document, a shredded
    space) is empty: it is gone for good.
    """
    sealed = [text for text in texts if isinstance(text, SealedText)]
    opened = iter(core.keyring.open_texts(space_id, sealed) if sealed else ())
    return [text if isinstance(text, str) else (next(opened) or "") for text in texts]


def open_titles(core: VaultCore, space_id: UUID, documents: Sequence[Document]) -> list[str]:
    """The current titles of documents of one space, opened (``open_texts``), in order."""
    return open_texts(core, space_id, [document.current.title for document in documents])


def open_details(core: VaultCore, rows: Sequence[dict[str, Any]]) -> None:
    """Open in place the sealed texts views keep in their rows' ``detail``, at any
    depth (an emergency access's justification; an appointed representative's name,
    ``detail.representative.name``, and their act's reference, ``detail.basis.reference``:
    ``SealedText.to_detail``, or ``as_event_detail``'s mark), grouped by the row's space.

    Only for rows the caller was already allowed to read (a page of their access log,
    their notifications); a destroyed key leaves an empty text.
    """
    by_space: dict[UUID, list[tuple[dict[str, Any], str, SealedText]]] = {}
    events: dict[int, Any] = {}  # a row's event, read once for all its marks
    for row in rows:
        detail = row.get("detail")
        if not isinstance(detail, dict) or row.get("space_id") is None:
            continue
        for holder, path, value in _detail_values(detail, ()):
            sealed = SealedText.from_detail(value) or _sealed_in_event(
                core, row, path, value, events
            )
            if sealed is not None:
                space_id = UUID(str(row["space_id"]))
                by_space.setdefault(space_id, []).append((holder, path[-1], sealed))
    for space_id, found in by_space.items():
        opened = open_texts(core, space_id, [sealed for _, _, sealed in found])
        for (holder, name, _), text in zip(found, opened, strict=True):
            holder[name] = text


def _detail_values(
    detail: dict[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], tuple[str, ...], Any]]:
    # Every value of a detail with the dict that holds it and its path from the top
    # (a sealed mark is a dict too: its own fields are visited, and are no marks).
    for name, value in detail.items():
        yield detail, (*path, name), value
        if isinstance(value, dict):
            yield from _detail_values(value, (*path, name))


def _sealed_in_event(
    core: VaultCore,
    row: dict[str, Any],
    path: tuple[str, ...],
    value: object,
    events: dict[int, Any],
) -> SealedText | None:
    # ``as_event_detail``: the sealed text stays in the event the row was made from
    # (the row's ``entry_id`` is its notification id), at the same path in its fields
    # as in the row's detail; it must be of the row's space and sealed to the key the
    # row names, or it is not opened.
    if not isinstance(value, dict) or value.get("in") != "event" or "entry_id" not in row:
        return None
    entry_id = int(row["entry_id"])
    if entry_id not in events:
        found = core.recorder.select_notifications(start=entry_id, limit=1)
        ok = found and found[0].id == entry_id
        events[entry_id] = core.mapper.to_domain_event(found[0]) if ok else None
    event = events[entry_id]
    if event is None:
        return None
    text = getattr(event, path[0], None)
    for name in path[1:]:
        text = text.get(name) if isinstance(text, dict) else None
    key_id = event.__dict__.get("text_key")
    if event.originator_id != UUID(str(row["space_id"])) or key_id != value.get("sealed_to"):
        return None
    return SealedText(key_id, text) if isinstance(text, str) else None


def summary(document: Document, title: str, now: datetime | None = None) -> DocumentSummary:
    """A document as listed: its current version's metadata (``title`` opened by
    ``open_titles``) and its confidentiality codes at ``now`` (none without), never its
    content."""
    version = document.current
    return DocumentSummary(
        document_id=document.id,
        type=document.type.value,
        title=title,
        date=version.date,
        version=version.number,
        author_name=version.author.name,
        author_organisation=version.author.organisation,
        size=version.ciphertext.size,
        deposited_at=version.deposited_at,
        masked=now is not None and document.masked,
        invisible_to_patient=now is not None and document.invisible_to_patient(now),
        invisible_to_representatives=now is not None and document.invisible_to_representatives,
    )


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
