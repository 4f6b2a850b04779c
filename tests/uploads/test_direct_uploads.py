"""Issue 12, item 3: deposits straight to S3, on PostgreSQL and the real Ceph RGW.

A depositor starts a presigned multipart upload, PUTs the parts to S3 itself, and the
vault completes it, checks the size and the envelope header, and signs the receipt the
deposit names (``vault.uploads``). Proven here: a whole deposit and read through the
SDK against a real ``coffre serve`` (the bytes never pass through the API, the SDK's
memory stays flat); a body that is no envelope, or bigger than announced or than the
vault accepts, refused and removed; an upload abandoned midway, or completed and never
deposited, collected once its ticket expired and not before; a depositor of another
space refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol_client
from tests.scenarios.conftest import postgres_s3_settings
from tests.uploads.helpers import HOSPITAL, MIB, PATIENT, running
from vault.blobstore import BlobNotFound
from vault.blobstore_s3_direct import DIRECT_PART_SIZE
from vault.scheduler import BlobCollector, CollectReport
from vault.uploads import DirectUpload
from wire.dto import Deposit
from wire.envelope import DataKey, encrypt, seal
from wire.errors import Forbidden, InvalidInput, NotFound, UnknownDocument, UnknownSpace
from wire.values import DocumentMetadata, DocumentType, Role, SourceId

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

MAX_SIZE = 24 * MIB
OTHER = Actor(Role.PATIENT, patient_id_from_number("2870675123456"), "Jeanne Martin")


@pytest.fixture
def coffre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Coffre]:
    """Coffre on PostgreSQL + S3 (direct uploads on, the default), PATIENT's space open."""
    settings = postgres_s3_settings(
        tmp_path / "data",
        request.getfixturevalue("pg_database"),
        request.getfixturevalue("s3_server"),
        request.getfixturevalue("s3_bucket"),
        master_keys=MasterKeys.generate().current.to_line(),
    ).model_copy(update={"opposition_period": timedelta(0), "max_document_size": MAX_SIZE})
    built = build(settings)
    built.vault.provision(PATIENT.id, HOSPITAL)
    try:
        yield built
    finally:
        built.close()


def envelope(size: int) -> bytes:
    """A genuine ciphertext of a ``size``-byte document."""
    return b"".join(encrypt([os.urandom(size)], DataKey.generate()))


def put_parts(started: DirectUpload, data: bytes) -> None:
    """PUT ``data`` to the part URLs as a client does (the last part takes the rest)."""
    last = len(started.part_urls)
    for number, url in enumerate(started.part_urls, 1):
        start = (number - 1) * started.part_size
        piece = data[start:] if number == last else data[start : start + started.part_size]
        response = httpx.put(url, content=piece, timeout=60)
        assert response.status_code == 200, response.text


def multipart_uploads(coffre: Coffre) -> list[str]:
    """The bucket's incomplete multipart uploads."""
    store = coffre.blobs
    page = store._client._list_multipart_uploads(store.bucket)  # type: ignore[attr-defined]
    return [upload.object_name for upload in page.uploads]


def test_an_envelope_sent_straight_to_s3_gets_a_receipt(coffre: Coffre) -> None:
    data = envelope(DIRECT_PART_SIZE + 1000)  # two parts, a short last one
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    assert len(started.part_urls) == 2
    put_parts(started, data)
    digest = hashlib.sha256(data).hexdigest()

    receipt = coffre.vault.complete_direct_upload(PATIENT.id, started.ticket, digest, HOSPITAL)

    assert (receipt.blob, receipt.size, receipt.sha256) == (started.blob, len(data), digest)
    with coffre.blobs.open(started.blob) as stored:
        assert hashlib.sha256(b"".join(stored)).hexdigest() == digest
    assert multipart_uploads(coffre) == []


def test_a_body_that_is_no_envelope_is_refused_and_removed(coffre: Coffre) -> None:
    data = b"%PDF-1.7 not encrypted" + os.urandom(100_000)
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data)

    with pytest.raises(InvalidInput, match="not a Coffre envelope"):
        coffre.vault.complete_direct_upload(PATIENT.id, started.ticket, "0" * 64, HOSPITAL)

    with pytest.raises(BlobNotFound):
        coffre.blobs.size(started.blob)
    assert multipart_uploads(coffre) == []


def test_a_size_over_the_limit_is_refused(coffre: Coffre) -> None:
    with pytest.raises(InvalidInput) as refused:
        coffre.vault.start_direct_upload(PATIENT.id, MAX_SIZE + 1, HOSPITAL)
    assert refused.value.field == "size"
    assert multipart_uploads(coffre) == []


def test_more_bytes_than_announced_are_refused_and_aborted(coffre: Coffre) -> None:
    # A presigned PUT cannot bound its body: the vault checks the parts S3 lists.
    data = envelope(1000)
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data + os.urandom(5 * MIB))

    with pytest.raises(InvalidInput, match="announced size"):
        coffre.vault.complete_direct_upload(PATIENT.id, started.ticket, "0" * 64, HOSPITAL)

    assert multipart_uploads(coffre) == []
    with pytest.raises(BlobNotFound):
        coffre.blobs.size(started.blob)


def test_a_depositor_of_another_space_is_refused(coffre: Coffre) -> None:
    coffre.vault.provision(OTHER.id, HOSPITAL)
    with pytest.raises(UnknownSpace):  # answered as if PATIENT's space did not exist
        coffre.vault.start_direct_upload(PATIENT.id, 1000, OTHER)
    # an upload begun for one space cannot be completed through another, nor by another
    data = envelope(1000)
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data)
    with pytest.raises(InvalidInput, match="another space"):
        coffre.vault.complete_direct_upload(OTHER.id, started.ticket, "0" * 64, HOSPITAL)
    clinic = Actor(Role.SERVICE, "clinique-est", "Clinique de l'Est", organisation="Clinique")
    with pytest.raises(Forbidden):
        coffre.vault.complete_direct_upload(PATIENT.id, started.ticket, "0" * 64, clinic)
    assert multipart_uploads(coffre) == [started.blob]


def test_abandoned_uploads_are_collected_once_their_ticket_expired(coffre: Coffre) -> None:
    vault = coffre.vault
    data = envelope(1000)
    abandoned = vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(abandoned, data)  # ...and never completed
    undeposited = vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(undeposited, data)
    digest = hashlib.sha256(data).hexdigest()
    vault.complete_direct_upload(PATIENT.id, undeposited.ticket, digest, HOSPITAL)

    def collector(at: datetime) -> BlobCollector:
        ttl = vault.upload_ttl
        return BlobCollector(vault, orphan_grace=ttl, temporary_grace=ttl, clock=lambda: at)

    now = datetime.now(UTC)
    assert collector(now).run() == CollectReport(0, 0)  # both still within their ticket's lifetime
    assert multipart_uploads(coffre) == [abandoned.blob]

    report = collector(now + vault.upload_ttl + timedelta(minutes=5)).run()

    assert (report.orphans, report.temporaries) == (1, 1)
    assert multipart_uploads(coffre) == []
    assert list(coffre.blobs.names()) == []
    with pytest.raises(NotFound):
        vault.complete_direct_upload(PATIENT.id, abandoned.ticket, digest, HOSPITAL)


# -- completed by the deposit itself (one request fewer) ---------------------------------

METADATA = DocumentMetadata(type=DocumentType.LAB_RESULT, title="Bilan", date=date(2026, 11, 2))


def sealed_key(coffre: Coffre) -> str:
    """A data key sealed to PATIENT's space key, base64, as a depositor sends it."""
    public = coffre.vault.space_key(PATIENT.id, HOSPITAL).public_key
    return base64.b64encode(seal(DataKey.generate(), base64.b64decode(public))).decode()


def test_the_deposit_completes_a_direct_upload_in_the_same_call(coffre: Coffre) -> None:
    vault = coffre.vault
    data = envelope(DIRECT_PART_SIZE + 1000)
    started = vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data)
    digest = hashlib.sha256(data).hexdigest()
    source = SourceId("urn:oid:1.2.250.1.213.1.1.1", "bilan-1")
    key = sealed_key(coffre)

    def deposit() -> Deposit:
        return vault.deposit_direct_upload(
            PATIENT.id, started.ticket, digest, METADATA, key, HOSPITAL, source=source
        )

    first = deposit()

    assert first.created and first.version == 1
    assert vault.referenced_blobs() == {started.blob}
    with coffre.blobs.open(started.blob) as stored:
        assert hashlib.sha256(b"".join(stored)).hexdigest() == digest
    assert multipart_uploads(coffre) == []
    # sent again (its answer lost): found completed, checked again, recorded once
    again = deposit()
    assert (again.document_id, again.created) == (first.document_id, False)
    assert vault.referenced_blobs() == {started.blob}


def test_the_one_call_records_nothing_for_a_body_that_is_no_envelope(coffre: Coffre) -> None:
    data = b"%PDF-1.7 not encrypted" + os.urandom(100_000)
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data)

    with pytest.raises(InvalidInput, match="not a Coffre envelope"):
        coffre.vault.deposit_direct_upload(
            PATIENT.id, started.ticket, "0" * 64, METADATA, sealed_key(coffre), HOSPITAL
        )

    assert coffre.vault.referenced_blobs() == set()
    with pytest.raises(BlobNotFound):
        coffre.blobs.size(started.blob)
    assert multipart_uploads(coffre) == []


def test_the_one_call_records_nothing_for_more_bytes_than_announced(coffre: Coffre) -> None:
    data = envelope(1000)
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data + os.urandom(5 * MIB))

    with pytest.raises(InvalidInput, match="announced size"):
        coffre.vault.deposit_direct_upload(
            PATIENT.id, started.ticket, "0" * 64, METADATA, sealed_key(coffre), HOSPITAL
        )

    assert coffre.vault.referenced_blobs() == set()
    assert multipart_uploads(coffre) == []


def test_the_one_call_refuses_another_depositor_and_another_space(coffre: Coffre) -> None:
    coffre.vault.provision(OTHER.id, HOSPITAL)
    data = envelope(1000)
    started = coffre.vault.start_direct_upload(PATIENT.id, len(data), HOSPITAL)
    put_parts(started, data)
    digest, key = hashlib.sha256(data).hexdigest(), sealed_key(coffre)
    clinic = Actor(Role.SERVICE, "clinique-est", "Clinique de l'Est", organisation="Clinique")
    with pytest.raises(Forbidden):
        coffre.vault.deposit_direct_upload(
            PATIENT.id, started.ticket, digest, METADATA, key, clinic
        )
    with pytest.raises(InvalidInput, match="another space"):
        coffre.vault.deposit_direct_upload(
            OTHER.id, started.ticket, digest, METADATA, key, HOSPITAL
        )
    assert coffre.vault.referenced_blobs() == set()
    assert multipart_uploads(coffre) == [started.blob]  # untouched: still its depositor's


# -- through the SDK, against a real server ---------------------------------------------


class Recording(httpx.HTTPTransport):
    """Real HTTP, remembering each request's method and URL."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, httpx.URL]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url))
        return super().handle_request(request)


def test_an_sdk_deposit_goes_straight_to_s3_and_reads_back(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = tmp_path / "scan.bin"
    plaintext = os.urandom(2 * DIRECT_PART_SIZE + 12345)  # three parts
    source.write_bytes(plaintext)
    wire = Recording()
    with running(request, "postgres-s3", tmp_path, {}) as served:
        api = httpx.URL(served.url).netloc  # S3 is on the same host, another port
        with CoffreClient(served.url, served.token(HOSPITAL), transport=wire) as hospital:
            tracemalloc.start()
            try:
                document_id, version = hospital.deposit(
                    PATIENT.id,
                    source,
                    type="imaging_report",
                    title="Scanner",
                    date=date(2026, 11, 2),
                )
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        with (
            CoffreClient(served.url, served.token(ENROLMENT)) as enrolment,
            CoffreClient(
                served.url, served.token(PATIENT), reader_key=ReaderKey.generate()
            ) as patient,
        ):
            enrol_client(patient, PATIENT, enrolment)
            patient.read(PATIENT.id, document_id, tmp_path / "copy.bin")

    assert version == 1
    assert (tmp_path / "copy.bin").read_bytes() == plaintext
    to_api = [(method, url.path) for method, url in wire.seen if url.netloc == api]
    to_s3 = [method for method, url in wire.seen if url.netloc != api]
    assert to_s3 == ["PUT", "PUT", "PUT"]
    assert not any(path.endswith("/uploads") for _, path in to_api)  # nothing relayed
    # completed by the deposit itself: start, then the deposit, nothing between
    space = f"/v1/spaces/{PATIENT.id}"
    assert [call for call in to_api if call[1].startswith(space)] == [
        ("POST", f"{space}/direct-uploads"),
        ("POST", f"{space}/documents"),
    ]
    # one envelope record and a few copies of it at a time, not a part, not the file
    assert peak < 4 * MIB, f"the SDK held {peak / MIB:.1f} MiB"


class Older(Recording):
    """As ``Recording``, hiding ``completes_on_deposit`` from the start's answer: the
    SDK then sees a server from before the one-call form."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method != "POST" or not request.url.path.endswith("/direct-uploads"):
            return response
        answer = json.loads(response.read())
        answer.pop("completes_on_deposit", None)
        return httpx.Response(response.status_code, json=answer)


def test_the_two_call_form_still_works_for_clients_that_do_not_know_the_one_call(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    plaintext = os.urandom(DIRECT_PART_SIZE + 999)
    wire = Older()
    with (
        running(request, "postgres-s3", tmp_path, {}) as served,
        CoffreClient(served.url, served.token(HOSPITAL), transport=wire) as hospital,
    ):
        document_id, version = hospital.deposit(
            PATIENT.id, plaintext, type="lab_result", title="Bilan", date=date(2026, 11, 2)
        )
        # the deposit's body names the receipt the completion answered
        again = hospital.deposit(
            PATIENT.id,
            plaintext,
            type="lab_result",
            title="Bilan",
            date=date(2026, 11, 2),
            document_id=document_id,
        )
    assert (version, again[1]) == (1, 2)
    space = f"/v1/spaces/{PATIENT.id}"
    paths = [url.path for method, url in wire.seen if method == "POST"]
    assert paths.count(f"{space}/direct-uploads/complete") == 2
    assert paths.count(f"{space}/documents") == 2


def test_a_refused_one_call_deposit_aborts_its_upload(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    wire = Recording()
    with (
        running(request, "postgres-s3", tmp_path, {}) as served,
        CoffreClient(served.url, served.token(HOSPITAL), transport=wire) as hospital,
        pytest.raises(UnknownDocument),  # a new version of no document
    ):
        hospital.deposit(
            PATIENT.id,
            os.urandom(1000),
            type="lab_result",
            title="Bilan",
            date=date(2026, 11, 2),
            document_id="3f0c8f6e-0000-4000-8000-000000000000",
        )
    space = f"/v1/spaces/{PATIENT.id}"
    posts = [
        url.path for method, url in wire.seen if method == "POST" and url.path.startswith(space)
    ]
    assert posts == [
        f"{space}/direct-uploads",
        f"{space}/documents",
        f"{space}/direct-uploads/abort",
    ]
