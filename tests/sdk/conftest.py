"""SDK fixtures: the real app, built by the real composition root, served in process.

``httpx.ASGITransport`` is asynchronous while the SDK is synchronous, so
:class:`InProcessTransport` runs it in an anyio blocking portal. Like ASGITransport
itself, it buffers request and response bodies: fine for the small sizes used here;
streaming at scale is covered by the CLI tests against a real uvicorn server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest

from api.app import create_app
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.devices import ENROLMENT, enrol_client
from vault.settings import Settings
from wire.values import Profession, Role

BASE_URL = "http://coffre.test"
HOSPITAL = Actor(Role.SERVICE, "hopital-nord", "Hôpital Nord", organisation="Hôpital Nord")
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2850775123456"), "Alice Martin")
DOCTOR = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("1000000001"),
    "Dr Claire Bernard",
    Profession.DOCTOR,
    "Cabinet Bernard",
)
STRANGER = Actor(
    Role.PROFESSIONAL, professional_id_from_number("1000000002"), "Dr Marc Petit", Profession.DOCTOR
)


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport over an ASGI app (buffers bodies).

    Requests for another host than the API's (presigned S3 URLs: a direct upload's
    parts, a read's ciphertext) go over the network, as they would from a client.
    """

    def __init__(self, app: Any, portal: anyio.from_thread.BlockingPortal) -> None:
        #: the app served (its state holds per-application limits a test may set)
        self.app = app
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = portal
        self._network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != httpx.URL(BASE_URL).host:
            return self._network.handle_request(request)
        # the SDK streams its body from a sync generator: read it here, replay it async
        body = request.read()
        replay = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = self._portal.call(self._asgi.handle_async_request, replay)
        content = self._portal.call(_read_async, response)
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def close(self) -> None:
        """Close the network connections."""
        self._network.close()


async def _read_async(response: httpx.Response) -> bytes:
    return await response.aread()


@pytest.fixture
def coffre(tmp_path: Path) -> Iterator[Coffre]:
    """An embedded Coffre (SQLite + files) in a fresh data directory."""
    # Spaces open at once here: these tests are about HTTP, not the opposition period.
    built = build(Settings(data_dir=tmp_path / "data", opposition_period=timedelta(0)))
    yield built
    built.close()


@pytest.fixture
def transport(coffre: Coffre) -> Iterator[InProcessTransport]:
    """The real app behind an in-process transport."""
    with anyio.from_thread.start_blocking_portal() as portal:
        yield InProcessTransport(create_app(coffre), portal)


@pytest.fixture
def connect(
    coffre: Coffre, transport: InProcessTransport
) -> Iterator[Callable[[Actor], CoffreClient]]:
    """Open an SDK client as an actor, with a fresh device key (approved by ``enrol``)."""
    opened: list[CoffreClient] = []

    def open_client(actor: Actor) -> CoffreClient:
        token = coffre.tokens.mint(actor, timedelta(minutes=10))
        client = CoffreClient(BASE_URL, token, reader_key=ReaderKey.generate(), transport=transport)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


Enrol = Callable[[CoffreClient, Actor], str]


@pytest.fixture
def enrol(connect: Callable[[Actor], CoffreClient]) -> Enrol:
    """Make a client's key an approved device of ``actor``, its token's (with an
    enrolment code, or by the enrolment service); returns its key id."""
    enrolment = connect(ENROLMENT)
    return lambda client, actor: enrol_client(client, actor, enrolment)


@pytest.fixture
def space(connect: Callable[[Actor], CoffreClient]) -> str:
    """A provisioned space for PATIENT; returns the patient id."""
    connect(HOSPITAL).provision(PATIENT.id)
    return PATIENT.id
