"""Direct uploads (``vault.uploads``) on the in-memory vault, over a fake of the port.

``FakeDirect`` is ``vault.blobstore.DirectUploads`` over the memory blob store: parts
are "PUT" by the test itself (``put``), as a client would to S3. What is proven here is
the vault's side: who may start, the size bound, the layout and header checks, that a
refused upload leaves nothing, and that the receipt is the one ``deposit`` accepts. The
same on Ceph RGW, through presigned URLs, is ``tests/uploads/test_direct_uploads.py``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.values import Actor, patient_id_from_number
from tests.unit.conftest import HOSPITAL, World, professional
from vault.blobstore import BlobNotFound, DirectUploads, UploadedPart
from vault.blobstore_memory import MemoryBlobStore
from vault.scheduler import BlobCollector
from vault.uploads import DirectUpload
from wire.envelope import DataKey, encrypt, seal
from wire.errors import (
    DirectUploadUnavailable,
    Forbidden,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    UnknownSpace,
)
from wire.values import DocumentMetadata, DocumentType, Role

PART = 1024  # the fake's part size: small, so documents of a few KiB have several parts


class FakeDirect(DirectUploads):
    """Multipart uploads held in memory, completed into the memory blob store."""

    def __init__(self, store: MemoryBlobStore) -> None:
        self.store = store
        self.part_size = PART
        self.max_parts = 1000
        self.uploads: dict[tuple[str, str], dict[int, bytes]] = {}
        self._count = 0

    def start(self, name: str) -> str:
        self._count += 1
        self.uploads[(name, str(self._count))] = {}
        return str(self._count)

    def part_url(self, name: str, upload_id: str, number: int, expires: timedelta) -> str:
        return f"memory://{name}/{upload_id}/{number}"

    def put(self, url: str, data: bytes) -> None:
        """A client's PUT to a part URL."""
        name, upload_id, number = url.removeprefix("memory://").split("/")
        self.uploads[(name, upload_id)][int(number)] = data

    def parts(self, name: str, upload_id: str) -> list[UploadedPart] | None:
        held = self.uploads.get((name, upload_id))
        if held is None:
            return None
        return [UploadedPart(n, len(held[n]), f"etag{n}") for n in sorted(held)]

    def complete(self, name: str, upload_id: str, parts: list[UploadedPart]) -> None:
        held = self.uploads.pop((name, upload_id))
        self.store.put(name, [held[part.number] for part in parts])

    def abort(self, name: str, upload_id: str) -> None:
        self.uploads.pop((name, upload_id), None)

    def head(self, name: str, length: int) -> tuple[bytes, int]:
        whole = self.store._get(name)
        return whole[:length], len(whole)


@pytest.fixture
def direct(world: World) -> FakeDirect:
    """Direct uploads turned on for the world's memory blob store."""
    store = world.vault.blobs
    assert isinstance(store, MemoryBlobStore)
    store.direct = FakeDirect(store)
    return store.direct


def ciphertext(size: int = 5000) -> bytes:
    """A genuine envelope of a ``size``-byte document."""
    return b"".join(encrypt([bytes(size)], DataKey.generate(), chunk_size=512))


def send(direct: FakeDirect, started: DirectUpload, data: bytes) -> None:
    """PUT ``data`` in the parts the vault asked for."""
    for number, url in enumerate(started.part_urls, 1):
        direct.put(url, data[(number - 1) * PART : number * PART])


def deposited(world: World, direct: FakeDirect, plaintext: bytes) -> tuple[DirectUpload, UUID]:
    """Encrypt, upload directly and deposit ``plaintext``; the upload and the document."""
    key = DataKey.generate()
    data = b"".join(encrypt([plaintext], key, chunk_size=512))
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    assert started.part_size == PART
    assert len(started.part_urls) == -(-len(data) // PART)
    send(direct, started, data)
    digest = hashlib.sha256(data).hexdigest()
    receipt = world.vault.complete_direct_upload(world.pid, started.ticket, digest, HOSPITAL)
    assert (receipt.size, receipt.sha256) == (len(data), digest)
    assert receipt.expires_at == started.expires_at  # never later than the upload's own
    sealed = seal(key, base64.b64decode(world.vault.space_key(world.pid).public_key))
    metadata = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 30))
    made = world.vault.deposit(world.pid, receipt.ticket, metadata, sealed, HOSPITAL)
    return started, made.document_id


def test_a_direct_upload_gives_the_receipt_a_deposit_accepts(
    world: World, direct: FakeDirect
) -> None:
    _, document_id = deposited(world, direct, b"x" * 3000)
    assert world.read(document_id, world.patient) == b"x" * 3000
    assert direct.uploads == {}


def test_completing_again_answers_a_fresh_receipt(world: World, direct: FakeDirect) -> None:
    data = ciphertext()
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    send(direct, started, data)
    digest = hashlib.sha256(data).hexdigest()
    first = world.vault.complete_direct_upload(world.pid, started.ticket, digest, HOSPITAL)
    again = world.vault.complete_direct_upload(world.pid, started.ticket, digest, HOSPITAL)
    assert (again.blob, again.size) == (first.blob, first.size)


def test_a_body_that_is_no_envelope_is_refused_and_removed(
    world: World, direct: FakeDirect
) -> None:
    data = b"%PDF-1.7 plaintext!" + bytes(3000)
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    send(direct, started, data)
    with pytest.raises(InvalidInput, match="not a Coffre envelope"):
        world.vault.complete_direct_upload(world.pid, started.ticket, "0" * 64, HOSPITAL)
    with pytest.raises(BlobNotFound):
        world.vault.blobs.size(started.blob)


@pytest.mark.parametrize(
    "cut",
    [
        lambda data: data[:-1],  # the last part short
        lambda data: data + b"more",  # a last part longer than announced
        lambda data: data[: 2 * PART],  # a part missing
    ],
)
def test_parts_that_do_not_make_the_announced_size_are_refused_and_aborted(
    world: World, direct: FakeDirect, cut: object
) -> None:
    data = ciphertext()
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    sent = cut(data)  # type: ignore[operator]
    for number, url in enumerate(started.part_urls, 1):
        piece = sent[(number - 1) * PART : number * PART]
        if number == len(started.part_urls):
            piece = sent[(number - 1) * PART :]
        if piece:
            direct.put(url, piece)
    with pytest.raises(InvalidInput, match="announced size"):
        world.vault.complete_direct_upload(world.pid, started.ticket, "0" * 64, HOSPITAL)
    assert direct.uploads == {}
    with pytest.raises(NotFound):  # aborted: completing again finds nothing
        world.vault.complete_direct_upload(world.pid, started.ticket, "0" * 64, HOSPITAL)


def test_a_size_over_the_limit_is_refused_before_anything_starts(
    world: World, direct: FakeDirect
) -> None:
    world.vault.max_document_size = 10 * PART
    with pytest.raises(InvalidInput) as refused:
        world.vault.start_direct_upload(world.pid, 10 * PART + 1, HOSPITAL)
    assert refused.value.field == "size"
    assert direct.uploads == {}


def test_only_a_depositor_of_this_space_may_start_complete_or_abort(
    world: World, direct: FakeDirect
) -> None:
    # the patient of another space is answered as if there were no space here
    other_patient = Actor(Role.PATIENT, patient_id_from_number("1850575123456"), "Inès Moreau")
    world.vault.provision(other_patient.id, HOSPITAL)
    with pytest.raises(UnknownSpace):
        world.vault.start_direct_upload(world.pid, 4000, other_patient)
    data = ciphertext()
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    send(direct, started, data)
    doctor = professional("1000000001", "Dr Paul Durand")
    with pytest.raises(Forbidden):
        world.vault.complete_direct_upload(world.pid, started.ticket, "0" * 64, doctor)
    with pytest.raises(Forbidden):
        world.vault.abort_direct_upload(world.pid, started.ticket, doctor)
    with pytest.raises(IntegrityFailure):  # forged
        world.vault.complete_direct_upload(world.pid, started.ticket + "x", "0" * 64, HOSPITAL)
    assert len(direct.uploads) == 1


def test_an_expired_upload_ticket_completes_nothing(world: World, direct: FakeDirect) -> None:
    data = ciphertext()
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    send(direct, started, data)
    world.clock.advance(world.vault.upload_ttl + timedelta(seconds=1))
    with pytest.raises(IntegrityFailure, match="expired"):
        world.vault.complete_direct_upload(world.pid, started.ticket, "0" * 64, HOSPITAL)


def test_an_aborted_upload_leaves_nothing(world: World, direct: FakeDirect) -> None:
    data = ciphertext()
    started = world.vault.start_direct_upload(world.pid, len(data), HOSPITAL)
    send(direct, started, data)
    world.vault.abort_direct_upload(world.pid, started.ticket, HOSPITAL)
    world.vault.abort_direct_upload(world.pid, started.ticket, HOSPITAL)  # idempotent
    assert direct.uploads == {}
    assert list(world.vault.blobs.names()) == []


def test_aborting_a_completed_upload_never_removes_a_document(
    world: World, direct: FakeDirect
) -> None:
    # A depositor may not remove a document's content: only the patient deletes.
    started, document_id = deposited(world, direct, b"y" * 2000)

    world.vault.abort_direct_upload(world.pid, started.ticket, HOSPITAL)

    assert world.read(document_id, world.patient) == b"y" * 2000


def test_a_store_without_direct_uploads_says_so(world: World) -> None:
    with pytest.raises(DirectUploadUnavailable):
        world.vault.start_direct_upload(world.pid, 4000, HOSPITAL)


def test_the_collector_never_aborts_a_direct_upload_before_its_ticket_expires(
    world: World, direct: FakeDirect
) -> None:
    with pytest.raises(InvalidInput) as refused:
        BlobCollector(world.vault, temporary_grace=world.vault.upload_ttl / 2)
    assert refused.value.field == "blob_temporary_grace"
    BlobCollector(world.vault, temporary_grace=world.vault.upload_ttl)
