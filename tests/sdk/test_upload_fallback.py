"""The SDK relays an upload through the API when the server takes no direct uploads.

On the files backend the direct route answers 409 ``direct-upload-unavailable``: the SDK
relays that deposit, remembers the answer and relays the next ones at once. A source of
unknown size (an iterable) is relayed without asking. Direct uploads themselves, on S3,
are ``tests/uploads/test_direct_uploads.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import httpx
import pytest

from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from domain.values import Actor
from tests.sdk.conftest import BASE_URL, HOSPITAL, InProcessTransport
from wire.errors import DirectUploadUnavailable


class Paths(httpx.BaseTransport):
    """The in-process app, remembering each request's method and path."""

    def __init__(self, inner: InProcessTransport) -> None:
        self._inner = inner
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path.rsplit('/', 1)[-1]}")
        return self._inner.handle_request(request)


@pytest.fixture
def hospital(coffre: Coffre, transport: InProcessTransport) -> Iterator[tuple[CoffreClient, Paths]]:
    """The hospital's client over a recording transport, PATIENT's space provisioned."""
    paths = Paths(transport)
    token = coffre.tokens.mint(HOSPITAL, timedelta(minutes=10))
    with CoffreClient(BASE_URL, token, transport=paths) as client:
        yield client, paths


def _deposit(client: CoffreClient, patient_id: str, source: object) -> None:
    client.deposit(patient_id, source, type="lab_result", title="Bilan", date=date(2026, 1, 2))  # type: ignore[arg-type]


def test_the_files_backend_relays_and_the_sdk_remembers(
    hospital: tuple[CoffreClient, Paths], space: str
) -> None:
    client, paths = hospital
    _deposit(client, space, b"first")
    assert [p for p in paths.seen if "upload" in p] == ["POST direct-uploads", "POST uploads"]
    assert client.direct_uploads is False
    paths.seen.clear()
    _deposit(client, space, b"second")
    assert [p for p in paths.seen if "upload" in p] == ["POST uploads"]


def test_a_source_of_unknown_size_is_relayed_at_once(
    hospital: tuple[CoffreClient, Paths], space: str
) -> None:
    client, paths = hospital
    _deposit(client, space, iter([b"a stream ", b"of unknown size"]))
    assert [p for p in paths.seen if "upload" in p] == ["POST uploads"]


def test_the_direct_route_says_why_it_refuses(
    connect: Callable[[Actor], CoffreClient], space: str
) -> None:
    client = connect(HOSPITAL)
    with pytest.raises(DirectUploadUnavailable):
        client._request("POST", f"/v1/spaces/{space}/direct-uploads", json={"size": 1000})


class OlderServer(Paths):
    """A server from before direct uploads: no such route."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/direct-uploads"):
            self.seen.append("POST direct-uploads")
            problem = {"type": "https://coffre.invalid/problems/not-found", "status": 404}
            return httpx.Response(404, json=problem)
        return super().handle_request(request)


def test_a_server_without_the_route_is_relayed_to(
    coffre: Coffre, transport: InProcessTransport, space: str
) -> None:
    older = OlderServer(transport)
    token = coffre.tokens.mint(HOSPITAL, timedelta(minutes=10))
    with CoffreClient(BASE_URL, token, transport=older) as client:
        _deposit(client, space, b"first")
        _deposit(client, space, b"second")
    assert [p for p in older.seen if "upload" in p] == [
        "POST direct-uploads",
        "POST uploads",
        "POST uploads",
    ]
