"""The SDK's listing: ``documents`` follows every page of the server's, ``documents_page``
hands one out with its cursor."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from client import reads as client_reads
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from domain.values import Actor
from tests.scenarios.conftest import grow
from tests.sdk.conftest import BASE_URL, HOSPITAL, PATIENT
from wire.errors import InvalidInput, Unavailable

Connect = Callable[[Actor], CoffreClient]


def test_documents_follows_every_page(
    connect: Connect, space: str, coffre: Coffre, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = grow(coffre, space, HOSPITAL, 7)
    patient = connect(PATIENT)
    monkeypatch.setattr(client_reads, "PAGE", 3)  # three pages: 3, 3 and 1
    assert [d.document_id for d in patient.documents(space)] == ids

    first = patient.documents_page(space, limit=4)
    assert [d.document_id for d in first.documents] == ids[:4]
    assert first.next_cursor == ids[3]
    rest = patient.documents_page(space, after=first.next_cursor)
    assert [d.document_id for d in rest.documents] == ids[4:]
    assert rest.next_cursor is None


def test_bad_paging_is_the_servers_typed_error(connect: Connect, space: str) -> None:
    patient = connect(PATIENT)
    with pytest.raises(InvalidInput):
        patient.documents_page(space, limit=0)
    with pytest.raises(InvalidInput):
        patient.documents_page(space, after="7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a")


def test_a_server_paging_in_a_circle_is_unavailable_not_a_hang() -> None:
    one, two = "7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a", "0b1c2d3e-4f5a-4d1e-8f9a-7d6e5f4a3b2c"
    asked: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        asked.append(after)
        # one, two, one, ...: every cursor new to the previous page, none to the listing
        return httpx.Response(
            200, json={"documents": [], "next_cursor": two if after == one else one}
        )

    transport = httpx.MockTransport(server)
    with CoffreClient(BASE_URL, "tok", transport=transport) as client, pytest.raises(Unavailable):
        client.documents(PATIENT.id)
    assert asked == [None, one, two]


def test_an_older_server_without_cursors_is_one_page() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"documents": []})

    with CoffreClient(BASE_URL, "tok", transport=httpx.MockTransport(server)) as client:
        assert client.documents(PATIENT.id) == []
