"""Use cases of a space's documents: the space key depositors seal to, the upload of a
ciphertext, its deposit (or a new version), the patient's deletion, and the collection
of blobs no deposit names.

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods). The ciphertext blob is stored *before* ``Deposited`` is recorded: a blob no
event names is an orphan that ``collect_orphans`` removes. A deposit that repeats an
earlier one (same source identifier and content: ``domain.documents.prior_deposit``)
records nothing, and the blob it uploaded, if another, is deleted at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog

from domain.confidentiality import Confidentiality
from domain.key_bytes import SEALED_KEY_SIZE, decode_key_bytes
from domain.records import Document
from domain.space import Space
from domain.values import Actor, Ciphertext
from vault.core import VaultCore, key_info
from wire.dto import Deposit, SpaceKeyInfo, UploadReceipt
from wire.envelope import MAGIC, VERSION
from wire.errors import Conflict, InvalidInput, Unavailable, UnknownDocument
from wire.values import DocumentMetadata, SourceId

log = structlog.get_logger(__name__)

#: the first bytes of every Coffre envelope (format v1): checked on upload
HEADER_PREFIX = MAGIC + bytes([VERSION])

#: notifications read per page when listing the blobs deposits name
_PAGE = 1000


def space_key(core: VaultCore, patient_id: str, actor: Actor | None = None) -> SpaceKeyInfo:
    """The public key to which depositors seal data keys for this space.

    With ``actor``, only a depositor of this space may ask (``Forbidden`` otherwise):
    not a regulator, and a patient only for their own space. Without, anyone may.
    """
    with core.held_space(patient_id, actor) as space:
        if actor is not None:
            core.require_depositor(space, actor)
        return key_info(space)


def upload(
    core: VaultCore, patient_id: str, chunks: Iterable[bytes], actor: Actor
) -> UploadReceipt:
    """Store a document's ciphertext and return a receipt for the deposit.

    The stream must be a Coffre envelope (checked on its first bytes) of at most
    ``max_document_size`` bytes; otherwise nothing is stored.
    """
    with core.held_space(patient_id, actor) as space:
        core.require_depositor(space, actor)
        if not space.is_open(core.clock.now()):
            raise Conflict("the space is not open")  # before storing a blob for nothing
        space_id = space.id
    blob = uuid4().hex
    info = core.blobs.put(blob, _checked_envelope(chunks, core.max_document_size))
    expires_at = core.clock.now() + core.upload_ttl
    ticket = core.upload_tickets.sign(
        {
            "blob": info.name,
            "size": info.size,
            "sha256": info.sha256,
            "space": str(space_id),
            "by": actor.id,
        },
        expires_at,
    )
    return UploadReceipt(info.name, info.size, info.sha256, ticket, expires_at)


def deposit(
    core: VaultCore,
    patient_id: str,
    receipt: str,
    metadata: DocumentMetadata,
    sealed_key: bytes | str,
    actor: Actor,
    document_id: UUID | None = None,
    confidentiality: Confidentiality | None = None,
    source: SourceId | None = None,
) -> Deposit:
    """Record a deposit (or a new version when ``document_id`` names a document).

    ``confidentiality`` sets the document's codes in the same transaction: masked
    from professionals, invisible to the patient until an announcement consultation,
    invisible to the legal representatives (``Confidentiality``).

    ``source`` is the depositor's identifier of the document: a deposit repeating an
    earlier one (same identifier, same ciphertext) answers that document with
    ``created`` false and records nothing, its codes included. The decision is taken
    on the space as stored, again after every concurrent change (``VaultCore.on_space``),
    so concurrent retries record one document and all answer it.
    """
    payload = core.upload_tickets.verify(receipt, core.clock.now())
    ciphertext = Ciphertext(payload["blob"], int(payload["size"]), payload["sha256"])
    target = document_id or uuid4()
    sealed = decode_key_bytes(sealed_key, size=SEALED_KEY_SIZE, field="sealed_key")
    # The version's own key, made before the space is held (a key-store write): a
    # deposit that records nothing destroys it again below.
    seal = core.keyring.seal_deposit(UUID(payload["space"]), sealed, metadata.title)

    def command(space: Space, now: datetime) -> Deposit:
        if payload["space"] != str(space.id) or payload["by"] != actor.id:
            raise InvalidInput(
                "the upload receipt is for another space or depositor", field="receipt"
            )
        core.require_depositor(space, actor)
        if document_id is not None and document_id not in space.documents:
            raise UnknownDocument("no such document in this space")
        outcome = space.deposit(target, metadata, ciphertext, seal, actor, now, source)
        if outcome.recorded and confidentiality is not None:
            confidentiality.apply(space, target, core.periods, actor, now)
        return outcome

    try:
        outcome = core.on_space(patient_id, actor, command)
    except BaseException:
        _destroy_unused(core, seal.key_id)
        raise
    if not outcome.recorded:
        _destroy_unused(core, seal.key_id)
    if outcome.blob != ciphertext.blob:
        # A repeat whose ciphertext was uploaded again: no deposit names this copy.
        _discard(core, ciphertext.blob)
    return Deposit(outcome.document_id, outcome.version, created=outcome.recorded)


def _destroy_unused(core: VaultCore, key_id: str) -> None:
    # Best effort: a key no event names seals nothing anyone holds.
    try:
        core.keyring.destroy(key_id, core.clock.now())
    except Unavailable as error:
        log.warning("unused_document_key_left", error=error.code)


def _discard(core: VaultCore, blob: str) -> None:
    # Best effort: a blob left behind is an orphan, which the collector removes later.
    try:
        core.blobs.delete(blob)
    except Unavailable as error:
        log.warning("blob_discard_failed", error=error.code)


def delete_document(core: VaultCore, patient_id: str, document_id: UUID, actor: Actor) -> None:
    """The patient deletes a document from their space, for good.

    ``DocumentDeleted`` is recorded first; then every version's document key is
    destroyed and its blob deleted (``shred_document``), so that nobody can open it
    again, whoever holds the events, the key store, the master keys or a copy of the
    blob. Should that be cut short, the scheduler's sweep finishes it.
    """

    def command(space: Space, now: datetime) -> Document:
        space.delete_document(document_id, actor, now)
        return space.documents[document_id]

    shred_document(core, core.on_space(patient_id, actor, command), core.clock.now())


def shred_document(core: VaultCore, document: Document, at: datetime) -> None:
    """Destroy a deleted document's keys and blobs; idempotent, so a sweep may redo it.

    A deposit recorded before document keys existed has no key of its own: its blob
    goes, but its data key stays sealed to the space key until the space is shredded.
    """
    for version in document.versions:
        if version.document_key is not None:
            core.keyring.destroy(version.document_key, at)
        core.blobs.delete(version.ciphertext.blob)


def referenced_blobs(core: VaultCore) -> set[str]:
    """Names of every blob a ``Deposited`` event refers to."""
    names: set[str] = set()
    topic = f"{Space.Deposited.__module__}:{Space.Deposited.__qualname__}"
    start = 1
    while True:
        page = core.recorder.select_notifications(start=start, limit=_PAGE, topics=[topic])
        for notification in page:
            event = core.mapper.to_domain_event(notification)
            names.add(event.blob)  # type: ignore[attr-defined]
        if len(page) < _PAGE:
            return names
        start = page[-1].id + 1


def collect_orphans(core: VaultCore, older_than: timedelta) -> int:
    """Delete blobs older than ``older_than`` that no deposit names; returns the count.

    ``older_than`` must exceed the upload receipt lifetime, or a blob whose deposit
    is still to come could be collected.
    """
    if older_than < core.upload_ttl:
        raise InvalidInput("orphans are collected only after receipts expire", field="older_than")
    cutoff = core.clock.now() - older_than
    candidates = list(core.blobs.names(older_than=cutoff))
    referenced = referenced_blobs(core)
    orphans = [name for name in candidates if name not in referenced]
    for name in orphans:
        core.blobs.delete(name)
    return len(orphans)


def _checked_envelope(chunks: Iterable[bytes], max_size: int) -> Iterator[bytes]:
    # Validate while streaming: raising here aborts the blob put, so nothing is stored.
    size = 0
    head = b""
    for chunk in chunks:
        size += len(chunk)
        if size > max_size:
            raise InvalidInput("the document is larger than this vault accepts", field="body")
        if len(head) < len(HEADER_PREFIX):
            head += chunk[: len(HEADER_PREFIX) - len(head)]
            if not HEADER_PREFIX.startswith(head):
                raise InvalidInput("the body is not a Coffre envelope", field="body")
        yield chunk
    if len(head) < len(HEADER_PREFIX):
        raise InvalidInput("the body is not a Coffre envelope", field="body")
