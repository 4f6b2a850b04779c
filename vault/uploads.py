"""Direct uploads: a depositor sends a ciphertext straight to the blob store (S3), and
the vault signs the same upload receipt the relay upload (``vault.documents.upload``)
gives, which ``deposit`` then names.

Three steps, each a function over a ``vault.core.VaultCore``:

1. ``start_direct_upload``: a depositor of an open space announces the ciphertext's
   size (at most ``max_document_size``); the vault begins a multipart upload under a
   fresh blob name and answers one presigned URL per part, every part but the last of
   the store's fixed ``part_size``, and a signed *upload ticket* binding the upload to
   the space, the depositor, the size and a deadline (``upload_ttl``), with the space's
   public key (so the depositor needs no call of its own for it).
2. The client PUTs the parts to the URLs; the vault sees none of the bytes.
3. ``complete_direct_upload``: the vault lists the parts itself (never trusting the
   client's list), checks their layout against the announced size, completes the
   upload, then checks the stored object with one ranged GET: its first bytes
   (``MAGIC`` + ``VERSION`` of ``wire.envelope``) and its size (``Content-Range``).
   Only then does it sign a receipt, carrying the SHA-256 *the depositor declares*.
   Whatever fails a check is aborted or deleted before the error is raised.

``deposit_direct_upload`` does step 3 and the deposit (``vault.documents.deposit``) in
one call, so a depositor sends one request fewer: the same checks, in the same order,
all before anything is recorded. The two-call form stays for older clients.

What the vault trusts (docs/architecture.md, "Direct uploads"): the SHA-256. Computing
it would mean reading the whole object back through the API, which is what direct
uploads avoid. The hash is the depositor's own statement about its own ciphertext,
recorded in its deposit event under its name; every reader checks the bytes against it
before releasing the last plaintext record, and the envelope is AEAD-sealed under a data
key only the depositor had, so a wrong hash can only make the depositor's own document
unreadable (which sending garbage already could), never substitute anyone's content or
reveal anything. What the vault checks is what bounds its costs and keeps the store
clean: who, where, how big, and that the bytes start as an envelope.

An upload begun and never completed is an incomplete multipart upload, removed by the
blob collector (``BlobStore.collect_temporaries``) once older than its grace, which
must be at least ``upload_ttl`` (``vault.scheduler.BlobCollector``); a completed upload
never deposited is an orphan blob, collected like any other. Its receipt expires with
the upload ticket (started + ``upload_ttl``), never later, since the object is dated
from the start of its upload at the earliest: the orphan collector's grace covers it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from domain.confidentiality import Confidentiality
from domain.space import Space
from domain.values import Actor
from vault.blobstore import DirectUploads, UploadedPart, is_valid_name, new_name
from vault.core import VaultCore, key_info
from vault.documents import HEADER_PREFIX, deposit
from wire.dto import Deposit, SpaceKeyInfo, UploadReceipt
from wire.errors import (
    CoffreError,
    Conflict,
    DirectUploadUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)
from wire.values import DocumentMetadata, SourceId

log = structlog.get_logger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DirectUpload:
    """A direct upload begun: where to PUT each part, and the ticket that completes it."""

    ticket: str
    blob: str
    size: int
    part_size: int
    part_urls: tuple[str, ...]  # part n (1-based) goes to part_urls[n - 1]
    expires_at: datetime
    #: the key the depositor seals the data key to (what ``space_key`` answers): the
    #: SDK then needs no call of its own for it
    space_key: SpaceKeyInfo
    #: for each part, its URL at the store's other endpoints (empty with one endpoint)
    part_alternates: tuple[tuple[str, ...], ...] = ()


def _direct(core: VaultCore) -> DirectUploads:
    direct = core.blobs.direct
    if direct is None:
        raise DirectUploadUnavailable(
            "this vault takes uploads through the API only (POST .../uploads)"
        )
    return direct


def start_direct_upload(core: VaultCore, patient_id: str, size: int, actor: Actor) -> DirectUpload:
    """Begin a direct upload of a ``size``-byte ciphertext into the patient's space.

    ``DirectUploadUnavailable`` when the blob store takes none (the caller then uploads
    through the API); ``InvalidInput`` for a size over ``max_document_size``.
    """
    direct = _direct(core)
    if isinstance(size, bool) or not isinstance(size, int) or size <= len(HEADER_PREFIX):
        raise InvalidInput("size must be the ciphertext's length in bytes", field="size")
    if size > core.max_document_size:
        raise InvalidInput("the document is larger than this vault accepts", field="size")
    parts = math.ceil(size / direct.part_size)
    if parts > direct.max_parts:
        raise InvalidInput("the document is larger than this vault accepts", field="size")
    with core.held_space(patient_id, actor) as space:
        core.require_depositor(space, actor)
        if not space.is_open(core.clock.now()):
            raise Conflict("the space is not open")  # before beginning an upload for nothing
        space_id = space.id
        public = key_info(space)
    blob = new_name()
    upload_id = direct.start(blob)
    now = core.clock.now()
    expires_at = now + core.upload_ttl
    urls = tuple(
        direct.part_url(blob, upload_id, number, core.upload_ttl) for number in range(1, parts + 1)
    )
    ticket = core.direct_upload_tickets.sign(
        {
            "blob": blob,
            "upload": upload_id,
            "size": size,
            "part_size": direct.part_size,
            "space": str(space_id),
            "by": _who(actor),
        },
        expires_at,
    )
    alternates = tuple(
        direct.alternate_part_urls(blob, upload_id, number, core.upload_ttl)
        for number in range(1, parts + 1)
    )
    log.info("direct_upload_started", parts=parts)
    return DirectUpload(ticket, blob, size, direct.part_size, urls, expires_at, public, alternates)


def complete_direct_upload(
    core: VaultCore, patient_id: str, ticket: str, sha256: str, actor: Actor
) -> UploadReceipt:
    """Complete a direct upload, check what was stored, and return the deposit's receipt.

    ``sha256`` is the depositor's hex digest of the ciphertext it sent (trusted, see the
    module's note). Parts that do not make the announced size, or an object that is not
    a Coffre envelope, are refused with ``InvalidInput`` and removed. Completing again
    an upload already completed (an answer lost on the way) answers a fresh receipt.
    """
    direct = _direct(core)
    payload = _ticket(core, patient_id, ticket, actor)
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidInput("sha256 must be 64 lowercase hex characters", field="sha256")
    blob, upload_id, size = payload["blob"], payload["upload"], int(payload["size"])
    listed = direct.parts(blob, upload_id)
    if listed is not None:
        layout_ok = _layout_ok(listed, size, int(payload["part_size"]))
        try:
            if not layout_ok:
                raise InvalidInput("the parts sent do not make the announced size", field="parts")
            direct.complete(blob, upload_id, listed)
        except CoffreError:
            _best_effort(lambda: direct.abort(blob, upload_id))
            raise
    elif not _stored(core, blob):
        raise NotFound("no such upload: aborted, collected, or never begun")
    _check_object(core, direct, blob, size)
    expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    receipt = core.upload_tickets.sign(
        {
            "blob": blob,
            "size": size,
            "sha256": sha256,
            "space": payload["space"],
            "by": actor.id,
        },
        expires_at,
    )
    log.info("direct_upload_completed")
    return UploadReceipt(blob, size, sha256, receipt, expires_at)


def deposit_direct_upload(
    core: VaultCore,
    patient_id: str,
    ticket: str,
    sha256: str,
    metadata: DocumentMetadata,
    sealed_key: bytes | str,
    actor: Actor,
    document_id: UUID | None = None,
    confidentiality: Confidentiality | None = None,
    source: SourceId | None = None,
) -> Deposit:
    """Complete a direct upload and deposit it: ``complete_direct_upload`` then
    ``vault.documents.deposit`` with the receipt it signed, in one call.

    Every check of both happens, the upload's (parts, size, envelope header) before
    anything is recorded. Idempotent as each is: sent again after a lost answer, the
    upload is found completed and checked again, and a ``source`` deposit is recorded
    once. A deposit refused after the completion leaves an orphan blob, collected as
    one (as when the two calls are made apart).
    """
    receipt = complete_direct_upload(core, patient_id, ticket, sha256, actor)
    return deposit(
        core,
        patient_id,
        receipt.ticket,
        metadata,
        sealed_key,
        actor,
        document_id,
        confidentiality,
        source,
    )


def abort_direct_upload(core: VaultCore, patient_id: str, ticket: str, actor: Actor) -> None:
    """Abandon a direct upload: its parts are discarded. Idempotent.

    An upload already completed is left alone: its object may be deposited by now,
    and a depositor may not remove a document's content (only the patient deletes);
    never deposited, it is an orphan the collector removes.
    """
    direct = _direct(core)
    payload = _ticket(core, patient_id, ticket, actor)
    direct.abort(payload["blob"], payload["upload"])


def _who(actor: Actor) -> str:
    return f"{actor.role.value}:{actor.id}"


def _ticket(core: VaultCore, patient_id: str, ticket: str, actor: Actor) -> dict[str, Any]:
    # The ticket says which space and which depositor began the upload: nobody else
    # may complete or abort it, and not through another space's path.
    payload = core.direct_upload_tickets.verify(ticket, core.clock.now())
    if payload.get("by") != _who(actor):
        raise Forbidden("this upload was begun by another depositor")
    if payload.get("space") != str(Space.create_id(patient_id)):
        raise InvalidInput("the upload ticket is for another space", field="upload")
    if not is_valid_name(payload.get("blob")) or not isinstance(payload.get("upload"), str):
        raise InvalidInput("malformed upload ticket", field="upload")
    return payload


def _layout_ok(parts: list[UploadedPart], size: int, part_size: int) -> bool:
    # Parts 1..n, each exactly part_size but the last, which holds the rest: the one
    # layout of ``size`` bytes (S3 itself only requires 5 MiB parts but the last).
    count = math.ceil(size / part_size)
    if [part.number for part in parts] != list(range(1, count + 1)):
        return False
    last = size - (count - 1) * part_size
    return all(part.size == part_size for part in parts[:-1]) and parts[-1].size == last


def _stored(core: VaultCore, blob: str) -> bool:
    try:
        core.blobs.size(blob)
    except NotFound:
        return False
    return True


def _check_object(core: VaultCore, direct: DirectUploads, blob: str, size: int) -> None:
    # The completed object, as the store holds it: the announced size (which start
    # bounded by max_document_size) and an envelope's first bytes. What fails them goes
    # (it never had a receipt); a store failure leaves it (a completion retried after
    # its deposit must not remove a document's content), for the orphan collector.
    first, stored = direct.head(blob, len(HEADER_PREFIX))
    refusal: InvalidInput | None = None
    if stored != size:
        refusal = InvalidInput("the stored object is not of the announced size", field="parts")
    elif first != HEADER_PREFIX:
        refusal = InvalidInput("the body is not a Coffre envelope", field="body")
    if refusal is not None:
        _best_effort(lambda: core.blobs.delete(blob))
        raise refusal


def _best_effort(removal: Callable[[], None]) -> None:
    # The caller's error is what matters; what a failed removal leaves is collected
    # later (an incomplete upload as a temporary, an object as an orphan).
    try:
        removal()
    except Unavailable as error:
        log.warning("direct_upload_cleanup_failed", error=error.code)
