"""Use cases of reading: the listing of documents, the read itself (a decision, its
record, the key's release to an approved device), the ciphertext's download by ticket,
and the authorisations of the patient's own views (the access log, who may read a
document). Devices themselves are ``vault.devices``'s.

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods). Every decision is the domain's (``domain.reads``), taken on the space as
stored now, never on a projection. A read is recorded and committed before the data
key is resealed: if recording fails, no key leaves.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from itertools import islice
from uuid import UUID

from domain.access import Access
from domain.reads import Decision, Rule, decide_read, may_know_space, may_list
from domain.records import Document
from domain.space import Space
from domain.values import Actor
from vault.core import VaultCore, open_texts, open_titles, summary
from wire.dto import DocumentPage, DocumentSummary, Release
from wire.errors import (
    DeviceNotApproved,
    Forbidden,
    InvalidInput,
    UnknownDocument,
    UnknownSpace,
)

#: documents a page of the listing holds when the caller does not say, and at most
PAGE_DEFAULT = 100
PAGE_MAX = 500


def documents(core: VaultCore, patient_id: str, actor: Actor) -> list[DocumentSummary]:
    """The documents ``actor`` may read, in deposit order; others are not even counted.

    Every one of them, titles opened: for the use cases that need the whole listing (an
    export, a FHIR search's total). A caller facing a person pages (``documents_page``).
    """
    with core.held_space(patient_id, actor) as space:
        now = core.clock.now()
        listed = list(_listable(space, actor, now, space.documents.values()))
        return _summaries(core, space, listed, now)


def documents_page(
    core: VaultCore,
    patient_id: str,
    actor: Actor,
    *,
    after: UUID | None = None,
    limit: int = PAGE_DEFAULT,
) -> DocumentPage:
    """A page of ``documents``: the next ``limit`` documents ``actor`` may read after the
    document ``after`` (from the first when None), in deposit order.

    A page opens and summarises its own documents only: its cost and the time it holds
    the space are those of the page, plus a ``may_list`` check (microseconds) for each
    document passed over on the way (those before ``after``, those the caller may not
    see). Documents are never removed from a space (a deleted one
    keeps its place), so a cursor stays valid, and nothing listed twice or skipped,
    whatever is deposited, masked or deleted between two pages; a document masked from
    the caller since is passed over like any other they may not see. ``InvalidInput``
    for a ``limit`` outside ``[1, PAGE_MAX]`` or an ``after`` that names no document of
    the space. Document ids are random, so that answer tells a caller nothing about
    documents they have not seen.
    """
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_MAX}", field="limit")
    with core.held_space(patient_id, actor) as space:
        now = core.clock.now()
        rest = iter(space.documents.values())
        if after is not None:
            if after not in space.documents:
                raise InvalidInput("after names no document of this space", field="after")
            for document in rest:  # dicts keep insertion order: the deposit order
                if document.id == after:
                    break
        # one more than the page, to know whether another page follows
        listed = list(islice(_listable(space, actor, now, rest), limit + 1))
        more = len(listed) > limit
        listed = listed[:limit]
        return DocumentPage(
            documents=_summaries(core, space, listed, now),
            next_cursor=listed[-1].id if more else None,
        )


def _listable(
    space: Space, actor: Actor, now: datetime, documents: Iterable[Document]
) -> Iterator[Document]:
    return (document for document in documents if may_list(space, document, actor, now))


def _summaries(
    core: VaultCore, space: Space, listed: list[Document], now: datetime
) -> list[DocumentSummary]:
    titles = open_titles(core, space.id, listed)
    return [summary(document, title, now) for document, title in zip(listed, titles, strict=True)]


def document(core: VaultCore, patient_id: str, document_id: UUID, actor: Actor) -> DocumentSummary:
    """One entry of ``documents``: exactly what that listing shows ``actor`` of this
    document, opening one title instead of the space's.

    ``UnknownDocument`` for a document the listing would not show (masked from the
    caller, held from them, deleted, or none), in the words of every refused read.
    """
    with core.held_space(patient_id, actor) as space:
        now = core.clock.now()
        found = space.documents.get(document_id)
        if found is None or not may_list(space, found, actor, now):
            raise UnknownDocument("no such document in this space")
        (title,) = open_titles(core, space.id, [found])
        return summary(found, title, now)


def read(
    core: VaultCore, patient_id: str, document_id: UUID, actor: Actor, reader_key_id: str
) -> Release:
    """Authorise, record, then release the document's key resealed to the reader.

    A refused read is recorded too, and answers exactly like an unknown document so
    that a refusal never reveals that the document exists.
    """
    # Decided on the space and the reader's devices as stored now (one round trip);
    # recorded after letting go of them, so that concurrent reads of the space still
    # share one transaction.
    with core.held_space_and_reader(patient_id, actor) as (space, reader):
        try:
            reader_key = base64.b64decode(reader.usable_key(reader_key_id))
            device: DeviceNotApproved | None = None
        except DeviceNotApproved as refused:
            # pending, legacy or revoked: a refused read of the space, recorded so that
            # its patient sees the attempt; nothing about the document is looked at
            device = refused
        if space is None:
            raise UnknownSpace("no space for this patient")
        now = core.clock.now()
        space_id, space_version, key_id = space.id, space.version, space.key_id
        if device is None:
            decision = decide_read(space, document_id, actor, now)
        else:
            decision = Decision.refuse(Rule(device.rule))
        if decision.allowed:
            # taken while the space is held (a concurrent deposit may add a version);
            # its title is opened after letting go, without holding the space
            version = space.documents[document_id].current
            listed = summary(space.documents[document_id], "")
        else:
            known = may_know_space(space, actor, now)
    if not decision.allowed:
        # Recorded even for a caller who may not know the space: its patient sees
        # the attempt, while the caller's answer is the one a missing space gets.
        core.commit(
            Access.record_refusal(space_id, document_id, actor, decision, space_version, now)
        )
        if not known:
            raise UnknownSpace("no space for this patient")
        if device is not None:
            raise device
        raise UnknownDocument("no such document in this space")
    access = Access.record_read(
        space_id,
        document_id,
        version.number,
        actor,
        reader_key_id,
        decision,
        space_version,
        now,
    )
    core.commit(access)  # raises before any key is touched if the record cannot be stored
    sealed = core.keyring.reseal(
        space_id,
        key_id,
        base64.b64decode(version.sealed_key),
        reader_key,
        document_key=version.document_key,
    )
    document = replace(listed, title=open_texts(core, space_id, [version.title])[0])
    expires_at = now + core.content_ttl
    ticket = core.content_tickets.sign(
        {"blob": version.ciphertext.blob, "access": str(access.id)}, expires_at
    )
    blob = version.ciphertext.blob
    url = core.blobs.url_for_get(blob, core.content_ttl) if core.presign else None
    # the same link at the store's other endpoints, for a client to fail over to
    alternates = core.blobs.alternate_urls_for_get(blob, core.content_ttl) if url else ()
    return Release(
        access_id=access.id,
        document=document,
        sha256=version.ciphertext.sha256,
        sealed_key=base64.b64encode(sealed).decode("ascii"),
        content_ticket=ticket,
        content_url=url,
        expires_at=expires_at,
        content_alternates=alternates,
    )


def open_content(core: VaultCore, ticket: str) -> tuple[int, Iterator[bytes]]:
    """The size and byte stream of the ciphertext a content ticket names."""
    payload = core.content_tickets.verify(ticket, core.clock.now())
    blob = payload["blob"]
    return core.blobs.size(blob), core.blobs.open(blob)


def authorise_log(core: VaultCore, patient_id: str, actor: Actor) -> UUID:
    """The space id whose access log ``actor`` may read: only the patient's own.

    The reading is recorded (``Access.LogRead``) before the id is returned: RULES.md
    says reading the log is itself recorded. The log never lists a document invisible
    to the patient (``projections.access_log``).
    """
    with core.held_space(patient_id, actor) as space:
        if not space.is_patient(actor):
            raise Forbidden("only the patient reads their access log")
        space_id = space.id
    core.commit(Access.record_log_read(space_id, actor, core.clock.now()))
    return space_id


def log_titles(
    core: VaultCore, patient_id: str, document_ids: Iterable[UUID | str]
) -> dict[UUID, str]:
    """The titles of the documents a page of the access log names, opened.

    Only ``authorise_log``'s caller asks, for the page it was allowed to read. A
    deleted or shredded document has no title any more (absent from the answer).
    """
    wanted = {UUID(str(document_id)) for document_id in document_ids}
    with core.held_space(patient_id) as space:
        present = [
            document
            for document_id, document in space.documents.items()
            if document_id in wanted and not document.deleted
        ]
        titles = open_titles(core, space.id, present)
    return {document.id: title for document, title in zip(present, titles, strict=True)}


def authorise_readers(core: VaultCore, patient_id: str, document_id: UUID, actor: Actor) -> None:
    """Whether ``actor`` may list who may read ``document_id``: only the patient, and
    only for a document they may know of (``may_list``).

    A document of another space, deleted, or invisible to the patient is answered as
    unknown: the list of readers never reveals a document the patient may not see.
    """
    with core.held_space(patient_id, actor) as space:
        if not space.is_patient(actor):
            raise Forbidden("only the patient lists who may read their documents")
        document = space.documents.get(document_id)
        if document is None or not may_list(space, document, actor, core.clock.now()):
            raise UnknownDocument("no such document in this space")
