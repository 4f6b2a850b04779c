"""The SDK retries a deposit that carries a source identifier, on both backend pairings:
when the answer is lost (a timeout after the server recorded it) or is a 5xx, it sends
the same request again and returns the document's id, and the space holds one document.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import anyio.from_thread
import httpx
import pytest

from api.app import create_app
from client import feeding
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from tests.feeding.conftest import SOURCE
from tests.sdk.conftest import BASE_URL, InProcessTransport
from tests.uploads.helpers import HOSPITAL, PATIENT
from wire.errors import AlreadyDeposited, Unavailable
from wire.values import SourceId


class Flaky(httpx.BaseTransport):
    """The real app, except that the first ``failures`` deposits go wrong: ``lost``
    (the server records it, the client times out) or ``503`` (the server never saw it)."""

    def __init__(self, app: InProcessTransport, failure: str, failures: int = 1) -> None:
        self.app, self.failure, self.failures = app, failure, failures
        self.deposits = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_deposit = request.method == "POST" and request.url.path.endswith("/documents")
        if not is_deposit:
            return self.app.handle_request(request)
        self.deposits += 1
        if self.deposits > self.failures:
            return self.app.handle_request(request)
        if self.failure == "503":
            return httpx.Response(503, json={"type": "about:blank", "status": 503})
        self.app.handle_request(request)
        raise httpx.ReadTimeout("the answer was lost", request=request)


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once: the pauses are the SDK's politeness, not what is tested."""
    monkeypatch.setattr(feeding, "RETRY_PAUSES", (0.0, 0.0, 0.0))


@pytest.fixture
def app(coffre: Coffre) -> Iterator[InProcessTransport]:
    """The real app in process, PATIENT's space provisioned."""
    with anyio.from_thread.start_blocking_portal() as portal:
        transport = InProcessTransport(create_app(coffre), portal)
        with connect(coffre, transport) as hospital:
            hospital.provision(PATIENT.id)
        yield transport


def connect(coffre: Coffre, transport: httpx.BaseTransport) -> CoffreClient:
    token = coffre.tokens.mint(HOSPITAL, timedelta(minutes=10))
    return CoffreClient(BASE_URL, token, reader_key=ReaderKey.generate(), transport=transport)


def deposit(client: CoffreClient, path: Path, **options: object) -> tuple[object, int]:
    return client.deposit(
        PATIENT.id,
        path,
        type="lab_result",
        title="Bilan sanguin",
        date=date(2026, 10, 30),
        **options,  # type: ignore[arg-type]
    )


def documents(coffre: Coffre) -> list[object]:
    return list(coffre.vault.space(PATIENT.id).documents)


@pytest.fixture
def bilan(tmp_path: Path) -> Path:
    path = tmp_path / "bilan.pdf"
    path.write_bytes(b"%PDF-1.7 hemoglobine 13.5 g/dL")
    return path


@pytest.mark.parametrize("failure", ["lost", "503"])
def test_the_sdk_retries_a_deposit_with_its_source_identifier(
    coffre: Coffre, app: InProcessTransport, bilan: Path, failure: str
) -> None:
    flaky = Flaky(app, failure, failures=2)
    with connect(coffre, flaky) as hospital:
        document_id, version = deposit(hospital, bilan, source_id=(SOURCE["system"], "CR-1"))
    assert flaky.deposits == 3
    assert documents(coffre) == [document_id]
    assert version == 1


def test_without_a_source_identifier_the_sdk_does_not_retry(
    coffre: Coffre, app: InProcessTransport, bilan: Path
) -> None:
    flaky = Flaky(app, "lost")
    with connect(coffre, flaky) as hospital, pytest.raises(Unavailable):
        deposit(hospital, bilan)
    assert flaky.deposits == 1


def test_a_deposit_from_scratch_with_a_used_identifier_names_the_document(
    coffre: Coffre, app: InProcessTransport, bilan: Path
) -> None:
    # Depositing again from scratch encrypts anew: other content for the server.
    source = SourceId(SOURCE["system"], "CR-2")
    with connect(coffre, app) as hospital:
        first, _ = deposit(hospital, bilan, source_id=source)
        with pytest.raises(AlreadyDeposited) as refused:
            deposit(hospital, bilan, source_id=source)
        assert refused.value.document_id == str(first)  # type: ignore[attr-defined]
        replaced = deposit(hospital, bilan, source_id=source, document_id=first)
    assert replaced == (first, 2)
    assert documents(coffre) == [first]
