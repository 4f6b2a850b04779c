"""SDK reads on PostgreSQL + the real S3 server: ciphertext straight from S3.

With S3, a read answers a presigned GET URL by default, so the ciphertext never passes
through the API. The SDK must follow it (without its bearer token), keep its hash check
and its all-or-nothing file output, and turn a refused URL (expired, altered) into a
typed error. With presigning off, the API's ticket route still serves the bytes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import anyio.from_thread
import httpx
import pytest

from api.app import create_app
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor
from tests.blobstore.test_contract import other_name_of
from tests.devices import ENROLMENT, enrol_client
from tests.scenarios.conftest import backend_settings
from tests.sdk.conftest import BASE_URL, HOSPITAL, PATIENT, InProcessTransport
from tests.served import free_port
from wire.envelope import CHUNK_SIZE
from wire.errors import IntegrityFailure

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

API_HOST = httpx.URL(BASE_URL).host
DOCUMENT = os.urandom(3 * CHUNK_SIZE + 1000)  # several records, a short last one


class Routed(httpx.BaseTransport):
    """The app in process for the API's host; real HTTP for anything else (S3).

    Records every request, and can alter or delay the requests that go to S3, as a
    hostile proxy or a slow reader would.
    """

    def __init__(self, api: InProcessTransport) -> None:
        self._api = api
        self._network = httpx.HTTPTransport()
        self.seen: list[httpx.URL] = []
        self.alter: Callable[[httpx.URL], httpx.URL] | None = None
        self.delay = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url)
        if request.url.host == API_HOST:
            return self._api.handle_request(request)
        time.sleep(self.delay)
        if self.alter is not None:
            request = httpx.Request(
                request.method, self.alter(request.url), headers=request.headers
            )
        return self._network.handle_request(request)

    def close(self) -> None:
        self._network.close()

    def s3_requests(self) -> list[httpx.URL]:
        """The requests that went to the blob store."""
        return [url for url in self.seen if url.host != API_HOST]

    def content_requests(self) -> list[httpx.URL]:
        """The requests for the API's own content route."""
        return [url for url in self.seen if url.path.startswith("/v1/content/")]


def _overrides(request: pytest.FixtureRequest, way: str) -> dict[str, object]:
    if way == "ticket-fallback":
        return {"s3_presign": False}
    if way == "public-endpoint":
        # Clients reach S3 under another name than the API does (here: the same server).
        return {
            "s3_public_endpoint": other_name_of(request.getfixturevalue("s3_server")["endpoint"])
        }
    if way == "dead-first-gateway":
        # Two gateways, the first handed out to clients refusing connections: the SDK
        # must turn to the URLs the server gives for the other (its alternates).
        endpoint = request.getfixturevalue("s3_server")["endpoint"]
        return {
            "s3_endpoint": f"{endpoint},{endpoint}",
            "s3_public_endpoint": f"127.0.0.1:{free_port()},{endpoint}",
        }
    return {}


@pytest.fixture
def coffre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Coffre]:
    """Coffre on PostgreSQL + S3, presigning by default, or as parametrised."""
    settings = backend_settings(request, "postgres-s3", tmp_path / "data")
    overrides = _overrides(request, getattr(request, "param", "presigned"))
    built = build(settings.model_copy(update={"opposition_period": timedelta(0), **overrides}))
    yield built
    built.close()


@dataclass
class Reading:
    """A document deposited in PATIENT's space, the patient's client, and the wire."""

    coffre: Coffre
    routed: Routed
    patient: CoffreClient
    document_id: UUID

    def read(self, target: Path) -> None:
        """The patient reads the document into ``target``."""
        self.patient.read(PATIENT.id, self.document_id, target)


def _client(coffre: Coffre, transport: Routed, actor: Actor) -> CoffreClient:
    token = coffre.tokens.mint(actor, timedelta(minutes=10))
    return CoffreClient(BASE_URL, token, reader_key=ReaderKey.generate(), transport=transport)


@pytest.fixture
def reading(coffre: Coffre) -> Iterator[Reading]:
    """The app in process, S3 over the network, a deposited document, its reader."""
    with anyio.from_thread.start_blocking_portal() as portal:
        routed = Routed(InProcessTransport(create_app(coffre), portal))
        with _client(coffre, routed, HOSPITAL) as hospital:
            hospital.provision(PATIENT.id)
            document_id, _ = hospital.deposit(
                PATIENT.id, DOCUMENT, type="lab_result", title="Bilan", date=date(2026, 1, 2)
            )
        with _client(coffre, routed, PATIENT) as patient:
            with _client(coffre, routed, ENROLMENT) as enrolment:
                enrol_client(patient, PATIENT, enrolment)
            routed.seen.clear()
            yield Reading(coffre, routed, patient, document_id)
        routed.close()


@pytest.mark.parametrize(
    "coffre", ["presigned", "ticket-fallback", "public-endpoint"], indirect=True
)
def test_a_read_fetches_the_ciphertext_the_configured_way(reading: Reading, tmp_path: Path) -> None:
    settings, routed = reading.coffre.settings, reading.routed
    reading.read(tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == DOCUMENT
    if not settings.s3_presign:
        assert routed.s3_requests() == []
        assert len(routed.content_requests()) == 1
        return
    # Straight from S3, at the address clients use, by a URL that lives exactly as long
    # as a content ticket, and no byte through the API's relay.
    (s3,) = routed.s3_requests()
    assert f"{s3.host}:{s3.port}" == (settings.s3_public_endpoint or settings.s3_endpoint)
    assert s3.path.startswith(f"/{settings.s3_bucket}/")
    assert s3.params["X-Amz-Expires"] == str(int(reading.coffre.vault.content_ttl.total_seconds()))
    assert routed.content_requests() == []


@pytest.mark.parametrize("coffre", ["presigned", "ticket-fallback"], indirect=True)
def test_an_altered_ciphertext_never_lands(reading: Reading, tmp_path: Path) -> None:
    # Someone with write access to the bucket swaps the object: the recorded hash catches it.
    (blob,) = reading.coffre.blobs.names()
    reading.coffre.blobs.put(blob, [os.urandom(len(DOCUMENT) + 200)])
    with pytest.raises(IntegrityFailure):
        reading.read(tmp_path / "copy.bin")
    assert list(tmp_path.iterdir()) == []


def test_a_tampered_url_is_refused_and_nothing_lands(reading: Reading, tmp_path: Path) -> None:
    # The URL is pointed at another object: its signature no longer matches.
    reading.routed.alter = lambda url: url.copy_with(path=url.path[:-4] + "0000")
    with pytest.raises(IntegrityFailure, match=r"refused the content link \(\w+\)") as caught:
        reading.read(tmp_path / "copy.bin")
    assert "X-Amz" not in str(caught.value)  # the signed URL is never echoed
    assert list(tmp_path.iterdir()) == []


def test_an_expired_url_is_refused_and_a_new_read_works(reading: Reading, tmp_path: Path) -> None:
    reading.coffre.vault.content_ttl = timedelta(seconds=1)
    reading.routed.delay = 3.0  # the reader is slower than the link's lifetime
    with pytest.raises(IntegrityFailure, match="expired or was altered"):
        reading.read(tmp_path / "copy.bin")
    assert list(tmp_path.iterdir()) == []
    reading.routed.delay = 0.0
    reading.read(tmp_path / "copy.bin")  # a new recorded read, a fresh URL
    assert (tmp_path / "copy.bin").read_bytes() == DOCUMENT


@pytest.mark.parametrize("coffre", ["dead-first-gateway"], indirect=True)
def test_the_sdk_turns_to_the_next_gateway_when_one_refuses(
    reading: Reading, tmp_path: Path
) -> None:
    # A read: the presigned GET at the dead gateway, then at the live one; the ciphertext
    # still comes from S3, not through the API.
    routed = reading.routed
    reading.read(tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == DOCUMENT
    dead, live = reading.coffre.settings.s3_public_endpoint.split(",")  # type: ignore[union-attr]
    tried = [f"{url.host}:{url.port}" for url in routed.s3_requests()]
    assert tried == [dead, live]
    assert routed.content_requests() == []
    # A direct deposit: its part PUT too
    routed.seen.clear()
    with _client(reading.coffre, routed, HOSPITAL) as hospital:
        hospital.deposit(PATIENT.id, DOCUMENT, type="lab_result", title="Bilan", date="2026-01-03")
    tried = [f"{url.host}:{url.port}" for url in routed.s3_requests()]
    assert tried == [dead, live]
